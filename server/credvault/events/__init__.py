"""Connection events: the log in Vault (`journal`, its `head`), watching it (`feed`), and webhooks."""
