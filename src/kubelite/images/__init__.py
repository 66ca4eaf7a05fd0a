"""Images: references, registry configuration, pulling with skopeo into a content-addressed
store, unpacking layers once, and overlay root filesystems for containers."""
