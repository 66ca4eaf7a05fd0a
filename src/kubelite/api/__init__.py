"""The Kubernetes REST API over HTTPS: discovery, CRUD, watch, Table, logs and exec."""
