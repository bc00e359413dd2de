"""Messages and their life: form, queue, drafts, outbox and inbound bookkeeping, tracking,
AR, proof bundle."""
