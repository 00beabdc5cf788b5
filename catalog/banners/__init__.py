"""Home-page carousel banners that admins schedule."""
