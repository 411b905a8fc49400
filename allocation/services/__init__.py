"""Every write of the fair release, by concern: `releases` (entry windows opened, seeds
committed), `entries` (enter, withdraw), `draws` (close, plan, apply)."""
