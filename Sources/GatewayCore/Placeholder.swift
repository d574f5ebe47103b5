// The proxy engine lands with issue 3.
