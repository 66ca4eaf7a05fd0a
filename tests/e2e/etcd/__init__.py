"""etcd as kubelite's store: the contract on a real etcd, several API servers on one cluster."""
