#!/usr/bin/env python3
"""Lists the tau-retail customers (with their orders) that no earlier scenario
file uses (development set and held-out batches 1-3), to choose the customers
of held-out batch 4. Read-only. Same counting rule as list_unused_customers.py:
a customer or order named in an expectation, an email, user id or order id in
a turn, a full name (or first + last name with the zip) in a turn, and every
order of such a customer.

    python3 crates/agent/eval/tools/list_unused_customers4.py [db.json]
"""
import sys

from heldout_lib import db_path, load_db, print_unused, used_by

EARLIER = ['tau_scenarios.json', 'tau_scenarios_heldout.json',
           'tau_scenarios_heldout2.json', 'tau_scenarios_heldout3.json']


if __name__ == '__main__':
    load_db(db_path(sys.argv))
    users, orders, _ = used_by(EARLIER, same_scenario_name_zip=False)
    print_unused(users, orders)
