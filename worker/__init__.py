"""Background work with services: one Celery app over Redis. Tasks are thin: they open a
unit of work and call a plain function of the domain, which tests call directly."""
