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
import json, os, re, sys
HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.dirname(HERE)
DB_PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    EVAL, '..', '..', '..', '..', 'shared', 'data', 'tau-retail', 'db.json')
DB = json.load(open(DB_PATH))
EARLIER = ['tau_scenarios.json', 'tau_scenarios_heldout.json',
           'tau_scenarios_heldout2.json', 'tau_scenarios_heldout3.json',
           'tau_scenarios_heldout4.json', 'tau_scenarios_heldout5.json']


def named_with_zip(first, last, zip_, texts):
    """First name, last name and zip in the text of one scenario."""
    f, l = first.lower(), last.lower()
    return any(re.search(r'\b%s\b' % re.escape(f), t) and re.search(r'\b%s\b' % re.escape(l), t)
               and zip_ in t for t in texts)


def used():
    users, orders = set(), set()
    texts = []
    for f in EARLIER:
        for s in json.load(open(os.path.join(EVAL, f)))['scenarios']:
            e = s['expect']
            for k in ('orders', 'users'):
                for i in (e.get(k) or {}):
                    (orders if i.startswith('#') else users).add(i)
            for i in e.get('changed_only') or []:
                (orders if i.startswith('#') else users).add(i)
            texts.append(' '.join(s['turns']).lower() + ' ' + json.dumps(e).lower())
    blob = '\n'.join(texts)
    for oid in re.findall(r'#?w\d{7}', blob):
        oid = '#W' + oid[-7:]
        if oid in DB['orders']:
            orders.add(oid)
    for uid, u in DB['users'].items():
        n = u['name']
        if u['email'].lower() in blob or uid in blob:
            users.add(uid)
        full = (n['first_name'] + ' ' + n['last_name']).lower()
        if full in blob or named_with_zip(n['first_name'], n['last_name'], u['address']['zip'], texts):
            users.add(uid)
    for o in orders:
        users.add(DB['orders'][o]['user_id'])
    for uid in list(users):
        orders.update(DB['users'][uid]['orders'])
    return users, orders


if __name__ == '__main__':
    U, O = used()
    print(len(U), 'customers and', len(O), 'orders used', file=sys.stderr)
    for uid, u in DB['users'].items():
        if uid in U:
            continue
        pm = ','.join(k + ('(%s)' % v.get('balance') if v['source'] == 'gift_card'
                           else '(%s %s)' % (v.get('brand', ''), v.get('last_four', '')) if v['source'] == 'credit_card' else '')
                      for k, v in u['payment_methods'].items())
        n = u['name']
        print(uid, n['first_name'], n['last_name'], u['email'], u['address']['zip'], pm)
        for oid in u['orders']:
            o = DB['orders'][oid]
            print('   ', oid, o['status'],
                  [(i['name'], i['item_id'], i['price'], '/'.join(i['options'].values())) for i in o['items']],
                  [(p['transaction_type'], p['amount'], p['payment_method_id']) for p in o['payment_history']],
                  [f['tracking_id'] for f in o['fulfillments']])
