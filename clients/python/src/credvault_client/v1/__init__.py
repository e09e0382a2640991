"""Generated from protos/credvault/v1 by scripts/generate; do not edit."""
