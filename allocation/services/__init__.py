"""allocation's writes, by concern:

- `releases`: entry windows opened, seeds committed;
- `entries`: entering a draw, withdrawing;
- `draws`: a release's draw closed, planned and applied;
- `waiting`: joining and leaving the waiting list; a lost draw entry's household added to it;
  the per-session count of waiting households that quotas reads when a place comes back;
- `offers`: places held for the waiting list turned into offers, accepted, declined, lapsed.
"""
