"""Generated demo data: a category tree, realistic listings, sellers and placeholder photos,
written into the store by the project's own code so the demo looks like a live market."""
