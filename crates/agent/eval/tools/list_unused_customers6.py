#!/usr/bin/env python3
"""Lists the tau-retail customers (with their orders) that no earlier scenario
file uses (development set and held-out batches 1-5), to choose the customers
of held-out batch 6. Read-only. Same counting rule as list_unused_customers5.py:
a customer or order named in an expectation, an email, user id or order id in
a turn, a full name (or first + last name with the zip) in a scenario, and every
order of such a customer. One change: batch 5's rule counted a first name, a
last name and a zip found anywhere in all earlier files together; with six
files that leaves 43 customers and 2 pending orders. Here the three must be in
the same scenario, as the rule is described.

    python3 crates/agent/eval/tools/list_unused_customers6.py [db.json]
"""
import sys

from heldout_lib import db_path, load_db, print_unused, used_by

EARLIER = ['tau_scenarios.json', 'tau_scenarios_heldout.json',
           'tau_scenarios_heldout2.json', 'tau_scenarios_heldout3.json',
           'tau_scenarios_heldout4.json', 'tau_scenarios_heldout5.json']


if __name__ == '__main__':
    load_db(db_path(sys.argv))
    users, orders, _ = used_by(EARLIER, same_scenario_name_zip=True)
    print_unused(users, orders)
