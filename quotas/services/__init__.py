"""Every write to quotas and slots, one module per concern; each service owns its transaction.

- `claims`: the one way a place is taken and given back.
- `generation`: slots made to match an office's rules, with a preview of the plan.
- `priority`: priority places moved online before a session, and walk-ins beyond a full pool.
- `setup`: an office's first quota set-up.
- `searches`: availability searches counted as a demand signal.
"""
