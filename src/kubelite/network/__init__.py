"""The node's pod network: CNI attachments, the Service proxy (nftables) and cluster DNS."""
