"""The Connect page: a second edge beside the gRPC one, where a person connects their own account.
An aiohttp server in the gRPC server's process and event loop; pages are rendered on the server from the
provider specs (Jinja2), work without JavaScript, and call the same use cases as the RPCs."""
