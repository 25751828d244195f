#!/usr/bin/env python3
"""Writes crates/agent/eval/tau_scenarios_heldout3.json (held-out batch 3).

Each scenario names the writes a correct agent must make; the expected final
records are computed here from the tau-retail data by the SPEC section 5 rules
(the same fields `hypercommerce eval agent` compares), never from a run of the
engine. Preconditions of every write are asserted, so a scenario that asks
for an impossible write fails here. Run from anywhere:

    python3 crates/agent/eval/tools/make_heldout3.py [path/to/db.json]
"""
import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.dirname(HERE)
DB_PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    EVAL, '..', '..', '..', '..', 'shared', 'data', 'tau-retail', 'db.json')
DB = json.load(open(DB_PATH))


def r2(x):
    return round(x + 1e-9, 2)


def product_of(item_id):
    for p in DB['products'].values():
        if item_id in p['variants']:
            return p
    raise KeyError(item_id)


def V(old_item, **changes):
    """The available variant of old_item's product whose options are the old
    ones with `changes` applied (underscores in keys stand for spaces)."""
    p = product_of(old_item)
    want = dict(p['variants'][old_item]['options'])
    for k, v in changes.items():
        k = k.replace('_', ' ')
        assert k in want, (old_item, k)
        want[k] = v
    hits = [v for v in p['variants'].values() if v['options'] == want]
    assert len(hits) == 1, (old_item, want, 'no such variant')
    assert hits[0]['available'], (old_item, want, 'unavailable')
    assert hits[0]['item_id'] != old_item
    return hits[0]['item_id']


def variant(item_id):
    return product_of(item_id)['variants'][item_id]


def pay_method(db, uid, pm):
    assert pm in db['users'][uid]['payment_methods'], (uid, pm)
    return db['users'][uid]['payment_methods'][pm]


def gift_move(db, uid, pm, delta):
    m = pay_method(db, uid, pm)
    if m['source'] == 'gift_card':
        m['balance'] = r2(m['balance'] + delta)
        assert m['balance'] >= 0, (uid, pm, 'gift card does not cover')


def apply(db, act):
    kind, oid = act[0], act[1]
    if kind == 'uaddr':
        db['users'][oid]['address'] = act[2]
        return
    o = db['orders'][oid]
    uid = o['user_id']
    if kind == 'cancel':
        assert o['status'] == 'pending', (oid, o['status'])
        assert act[2] in ('no longer needed', 'ordered by mistake')
        for p in list(o['payment_history']):
            o['payment_history'].append({'transaction_type': 'refund', 'amount': p['amount'],
                                         'payment_method_id': p['payment_method_id']})
            gift_move(db, uid, p['payment_method_id'], p['amount'])
        o['status'] = 'cancelled'
        o['cancel_reason'] = act[2]
    elif kind == 'addr':
        assert 'pending' in o['status'], (oid, o['status'])
        o['address'] = act[2]
    elif kind == 'pay':
        new = act[2]
        assert 'pending' in o['status']
        assert len(o['payment_history']) == 1 and o['payment_history'][0]['transaction_type'] == 'payment'
        old = o['payment_history'][0]['payment_method_id']
        amt = o['payment_history'][0]['amount']
        assert new != old
        pay_method(db, uid, new)
        gift_move(db, uid, new, -amt)
        gift_move(db, uid, old, amt)
        o['payment_history'] += [
            {'transaction_type': 'payment', 'amount': amt, 'payment_method_id': new},
            {'transaction_type': 'refund', 'amount': amt, 'payment_method_id': old}]
    elif kind in ('items', 'exch'):
        olds, news, pm = act[2], act[3], act[4]
        assert len(olds) == len(news)
        if kind == 'items':
            assert o['status'] == 'pending', (oid, o['status'])
        else:
            assert o['status'] == 'delivered', (oid, o['status'])
        pay_method(db, uid, pm)
        pool = [i['item_id'] for i in o['items']]
        diff = 0.0
        for a, b in zip(olds, news):
            assert a in pool, (oid, a)
            pool.remove(a)
            assert b != a and product_of(a) is product_of(b) and variant(b)['available']
            diff += variant(b)['price'] - next(i for i in o['items'] if i['item_id'] == a)['price']
        diff = r2(diff)
        if kind == 'items':
            gift_move(db, uid, pm, -diff)
            o['payment_history'].append({'transaction_type': 'payment' if diff > 0 else 'refund',
                                         'amount': abs(diff), 'payment_method_id': pm})
            todo = list(zip(olds, news))
            for it in o['items']:
                for k, (a, b) in enumerate(todo):
                    if it['item_id'] == a:
                        v = variant(b)
                        it['item_id'], it['price'], it['options'] = b, v['price'], copy.deepcopy(v['options'])
                        todo.pop(k)
                        break
            o['status'] = 'pending (item modified)'
        else:
            o['exchange_items'] = sorted(olds)
            o['exchange_new_items'] = sorted(news)
            o['exchange_payment_method_id'] = pm
            o['exchange_price_difference'] = diff
            o['status'] = 'exchange requested'
    elif kind == 'ret':
        items, pm = act[2], act[3]
        assert o['status'] == 'delivered', (oid, o['status'])
        m = pay_method(db, uid, pm)
        assert pm == o['payment_history'][0]['payment_method_id'] or m['source'] == 'gift_card'
        pool = [i['item_id'] for i in o['items']]
        for a in items:
            assert a in pool, (oid, a)
            pool.remove(a)
        o['return_items'] = sorted(items)
        o['return_payment_method_id'] = pm
        o['status'] = 'return requested'
    else:
        raise ValueError(kind)


def address(a1, a2, city, state, zip_, country='USA'):
    return {'address1': a1, 'address2': a2, 'city': city, 'country': country, 'state': state, 'zip': zip_}


def price(item_id):
    return '%.2f' % variant(item_id)['price']


def cheapest(product_name):
    p = next(p for p in DB['products'].values() if p['name'] == product_name)
    v = min((v for v in p['variants'].values() if v['available']), key=lambda v: v['price'])
    return '%.2f' % v['price']


SCENARIOS = []


def S(name, category, turns, actions=(), reply=(), never=(), status=None, owner=None):
    db = copy.deepcopy(DB)
    for a in actions:
        apply(db, a)
    expect = {'orders': {}, 'users': {}}
    changed = []
    for sec in ('orders', 'users'):
        for k, v in db[sec].items():
            if DB[sec][k] != v:
                expect[sec][k] = v
                changed.append(k)
    expect = {k: v for k, v in expect.items() if v}
    expect['changed_only'] = sorted(changed)
    if status:
        expect['status'] = status
    if reply:
        expect['reply_contains'] = list(reply)
    if never:
        expect['reply_not_contains'] = list(never)
    SCENARIOS.append({'name': 'h3_' + name, 'category': category, 'owner': owner,
                      'turns': list(turns), 'expect': expect})


exec(open(os.path.join(HERE, 'heldout3_scenarios.py')).read())

# Checks: unique names, one customer per scenario, disjoint from earlier files.
names = [s['name'] for s in SCENARIOS]
assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
earlier = set()
for f in ('tau_scenarios.json', 'tau_scenarios_heldout.json', 'tau_scenarios_heldout2.json'):
    for s in json.load(open(os.path.join(EVAL, f)))['scenarios']:
        assert s['name'] not in names
        e = s['expect']
        earlier.update(e.get('orders', {}) or {})
        earlier.update(e.get('users', {}) or {})
        earlier.update(e.get('changed_only') or [])
        text = ' '.join(s['turns']).lower()
        for u in DB['users'].values():
            if u['email'].lower() in text:
                earlier.add(u['user_id'])
        for m in re.findall(r'w\d{7}', text):
            earlier.add('#W' + m[1:])
for s in SCENARIOS:
    owners = set()
    for i in s['expect']['changed_only']:
        owners.add(DB['orders'][i]['user_id'] if i.startswith('#') else i)
    if s['owner']:
        owners.add(s['owner'])
    assert len(owners) <= 1, (s['name'], owners)
    for o in owners:
        assert o not in earlier, (s['name'], o)
        for oid in DB['users'][o]['orders']:
            assert oid not in earlier, (s['name'], oid)
    del s['owner']

out = os.path.join(EVAL, 'tau_scenarios_heldout3.json')
with open(out, 'w') as f:
    f.write('{"scenarios": [\n')
    f.write(',\n'.join('  ' + json.dumps(s, ensure_ascii=False) for s in SCENARIOS))
    f.write('\n]}\n')
counts = {}
for s in SCENARIOS:
    counts[s['category']] = counts.get(s['category'], 0) + 1
print(len(SCENARIOS), 'scenarios', json.dumps(counts, sort_keys=True), file=sys.stderr)
