"""The agents' knowledge-base editor in the workspace (/knowledge/)."""
