"""allocation's writes, by concern:

- `waiting`: joining and leaving the waiting list; a lost draw entry's household added to it;
  the per-session count of waiting households that quotas reads when a place comes back.
- `offers`: places held for the waiting list turned into offers, accepted, declined, lapsed.
"""
