"""ProGBat's JSON API (DESIGN §5.2): Bearer tokens of the OAuth server, French error details."""
