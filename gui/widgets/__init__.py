"""Small reusable widgets: image panes, the message banner, accessible naming."""
