"""Development tools that are not part of kubelite itself: building the offline stand-in
images from Debian packages and running the local registry the tests and the demo use."""
