#!/usr/bin/env python3
"""Lists the tau-retail customers (with their orders) that no earlier scenario
file uses, to choose the customers of held-out batch 3. Read-only. The counting
rule is heldout_lib.used_by's."""
import os
import sys

from heldout_lib import load_db, used_by

EARLIER = ['tau_scenarios.json', 'tau_scenarios_heldout.json', 'tau_scenarios_heldout2.json']
EVAL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


def payment_summary(u):
    return ','.join(k + ('(%s)' % v.get('balance') if v['source'] == 'gift_card' else '(%s)' % v.get('brand', '') if v['source'] == 'credit_card' else '') for k, v in u['payment_methods'].items())


if __name__ == '__main__':
    DB = load_db('/work/shared/data/tau-retail/db.json')
    U, O, _ = used_by(EARLIER, same_scenario_name_zip=False, eval_dir=EVAL_DIR)
    print(len(U), len(O), file=sys.stderr)
    for uid, u in DB['users'].items():
        if uid in U:
            continue
        print(uid, u['email'], u['address']['zip'], payment_summary(u))
        for oid in u['orders']:
            o = DB['orders'][oid]
            print('   ', oid, o['status'], [(i['name'], i['item_id'], i['price'], '/'.join(i['options'].values())) for i in o['items']], [(p['transaction_type'], p['amount'], p['payment_method_id']) for p in o['payment_history']], [f['tracking_id'] for f in o['fulfillments']])
