"""kubelite's own API clients' plumbing: REST calls and watched caches (informers)."""
