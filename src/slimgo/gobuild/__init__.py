"""The builder: knows the Go toolchain, nothing about registries or image formats (like ko's pkg/build)."""
