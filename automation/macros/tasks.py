"""macros Celery tasks; automation.tasks imports this module so workers find them."""
