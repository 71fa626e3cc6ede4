"""The web application: app factory, templates, security headers and error pages."""
