"""An embedded Opendatasoft portal on loopback, for the demo and the tests.

It serves public pages in portal chrome, the Automation API v1.0 code editor
pages endpoints, and an admin area (``/__simulator__/``) to inject faults and
read the log of requests received::

    with Simulator() as sim:
        print(sim.base_url)
"""

from ods_charter.simulator.server import Simulator
from ods_charter.simulator.state import StateStore, seed_state

__all__ = ["Simulator", "StateStore", "seed_state"]
