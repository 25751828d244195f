"""What the held-out scenario generators share (make_heldout4.py, 5 and 6) and
the listers of customers no earlier scenario file uses
(list_unused_customers*.py). Standard library only.

- load_db: the tau-retail data; every helper below reads the loaded copy.
- Variants, prices, tracking numbers and statuses, each asserted against the
  data (V, unavailable, price, avail_price, cheapest, tracking, status_of...).
- scenario_adder: the S() the generators write scenarios with. It applies a
  scenario's writes to a copy of the data by the SPEC section 5 rules
  (apply), asserting every precondition, and records the changed records as
  the expectation.
- used_by: the customers, orders and scenario names earlier files use;
  finish_batch checks a batch against them and writes it.
- print_unused: the listing of the list_unused_customers scripts.
"""
import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.dirname(HERE)
DEFAULT_DB_PATH = os.path.join(EVAL, '..', '..', '..', '..', 'shared', 'data', 'tau-retail', 'db.json')
DB = None        # the tau-retail data, set by load_db
ABSENT = set()   # emails and order ids a scenario uses that must not exist


def db_path(argv):
    """The db.json named on the command line, else the shared copy."""
    return argv[1] if len(argv) > 1 else DEFAULT_DB_PATH


def load_db(path):
    """Loads the tau-retail data the helpers read and returns it."""
    global DB
    DB = json.load(open(path))
    return DB


# ====================================================================== the data
def r2(x):
    return round(x + 1e-9, 2) if x >= 0 else -round(-x + 1e-9, 2)


def product_of(item_id):
    for p in DB['products'].values():
        if item_id in p['variants']:
            return p
    raise KeyError(item_id)


def variant(item_id):
    return product_of(item_id)['variants'][item_id]


def V(old_item, **changes):
    """The one available variant of old_item's product whose options are the
    old ones with `changes` applied (underscores in keys stand for spaces)."""
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


def unavailable(old_item, **changes):
    """Asserts that the variant named by the changes exists and is NOT
    available (for the adversarial scenarios); returns its item id."""
    p = product_of(old_item)
    want = dict(p['variants'][old_item]['options'])
    for k, v in changes.items():
        want[k.replace('_', ' ')] = v
    hits = [v for v in p['variants'].values() if v['options'] == want]
    assert len(hits) == 1 and not hits[0]['available'], (old_item, want)
    return hits[0]['item_id']


def address(a1, a2, city, state, zip_, country='USA'):
    return {'address1': a1, 'address2': a2, 'city': city, 'country': country, 'state': state, 'zip': zip_}


def home(uid):
    return copy.deepcopy(DB['users'][uid]['address'])


def price(item_id):
    return '%.2f' % variant(item_id)['price']


def avail_price(item_id):
    assert variant(item_id)['available'], item_id
    return price(item_id)


def cheapest(product_name):
    p = next(p for p in DB['products'].values() if p['name'] == product_name)
    v = min((v for v in p['variants'].values() if v['available']), key=lambda v: v['price'])
    return '%.2f' % v['price']


def cheaper_unavailable(product_name):
    """Prices of unavailable variants cheaper than the cheapest available one
    (a correct reply must not quote them)."""
    p = next(p for p in DB['products'].values() if p['name'] == product_name)
    floor = min(v['price'] for v in p['variants'].values() if v['available'])
    out = ['%.2f' % v['price'] for v in p['variants'].values()
           if not v['available'] and v['price'] < floor]
    assert out, product_name
    return out


def tracking(order_id):
    f = DB['orders'][order_id]['fulfillments']
    assert len(f) == 1 and len(f[0]['tracking_id']) == 1, order_id
    return f[0]['tracking_id'][0]


def status_of(order_id, want):
    assert DB['orders'][order_id]['status'] == want, (order_id, DB['orders'][order_id]['status'])
    return want


def owner_of(order_id, uid):
    assert DB['orders'][order_id]['user_id'] == uid, (order_id, uid)
    return order_id


def name_zip(first, last, zip_):
    """Asserts that exactly one customer has this name and zip (what
    find_user_id_by_name_zip needs) and returns the words as a customer would
    type them."""
    hits = [u for u, d in DB['users'].items()
            if d['name']['first_name'].lower() == first.lower()
            and d['name']['last_name'].lower() == last.lower()
            and d['address']['zip'] == zip_]
    assert len(hits) == 1, (first, last, zip_, hits)
    return hits[0]


def no_such_email(email):
    assert all(u['email'].lower() != email.lower() for u in DB['users'].values()), email
    ABSENT.add(email.lower())
    return email


def no_such_name_zip(first, last, zip_):
    assert not [u for u, d in DB['users'].items()
                if d['name']['first_name'].lower() == first.lower()
                and d['name']['last_name'].lower() == last.lower()
                and d['address']['zip'] == zip_], (first, last, zip_)
    return zip_


def no_such_order(oid):
    assert oid not in DB['orders'], oid
    ABSENT.add(oid.lower())
    return oid


# ====================================================================== writes
def pay_method(db, uid, pm):
    assert pm in db['users'][uid]['payment_methods'], (uid, pm)
    return db['users'][uid]['payment_methods'][pm]


def gift_move(db, uid, pm, delta):
    m = pay_method(db, uid, pm)
    if m['source'] == 'gift_card':
        m['balance'] = r2(m['balance'] + delta)
        assert m['balance'] >= 0, (uid, pm, 'gift card does not cover')


def _cancel(db, o, oid, uid, reason):
    assert o['status'] == 'pending', (oid, o['status'])
    assert reason in ('no longer needed', 'ordered by mistake')
    for p in list(o['payment_history']):
        o['payment_history'].append({'transaction_type': 'refund', 'amount': p['amount'],
                                     'payment_method_id': p['payment_method_id']})
        gift_move(db, uid, p['payment_method_id'], p['amount'])
    o['status'] = 'cancelled'
    o['cancel_reason'] = reason


def _readdress(db, o, oid, uid, addr):
    assert 'pending' in o['status'], (oid, o['status'])
    o['address'] = addr


def _repay(db, o, oid, uid, new):
    assert 'pending' in o['status'], (oid, o['status'])
    assert len(o['payment_history']) == 1 and o['payment_history'][0]['transaction_type'] == 'payment'
    old = o['payment_history'][0]['payment_method_id']
    amt = o['payment_history'][0]['amount']
    assert new != old, (oid, new)
    pay_method(db, uid, new)
    gift_move(db, uid, new, -amt)
    gift_move(db, uid, old, amt)
    o['payment_history'] += [
        {'transaction_type': 'payment', 'amount': amt, 'payment_method_id': new},
        {'transaction_type': 'refund', 'amount': amt, 'payment_method_id': old}]


def _swap_difference(db, o, oid, uid, olds, news, pm, status):
    """Checks a swap of olds for news in an order of this status, paid by pm;
    returns what the new items cost more than the old ones."""
    assert len(olds) == len(news) and olds
    assert o['status'] == status, (oid, o['status'])
    pay_method(db, uid, pm)
    pool = [i['item_id'] for i in o['items']]
    diff = 0.0
    for a, b in zip(olds, news):
        assert a in pool, (oid, a)
        pool.remove(a)
        assert b != a and product_of(a) is product_of(b) and variant(b)['available'], (oid, a, b)
        diff += variant(b)['price'] - next(i for i in o['items'] if i['item_id'] == a)['price']
    return r2(diff)


def _modify_items(db, o, oid, uid, olds, news, pm):
    diff = _swap_difference(db, o, oid, uid, olds, news, pm, 'pending')
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
    assert not todo
    o['status'] = 'pending (item modified)'


def _exchange(db, o, oid, uid, olds, news, pm):
    diff = _swap_difference(db, o, oid, uid, olds, news, pm, 'delivered')
    m = pay_method(db, uid, pm)
    if m['source'] == 'gift_card' and diff > 0:
        assert m['balance'] >= diff, (oid, pm, 'gift card does not cover the difference')
    o['exchange_items'] = sorted(olds)
    o['exchange_new_items'] = sorted(news)
    o['exchange_payment_method_id'] = pm
    o['exchange_price_difference'] = diff
    o['status'] = 'exchange requested'


def _return(db, o, oid, uid, items, pm):
    assert o['status'] == 'delivered', (oid, o['status'])
    m = pay_method(db, uid, pm)
    assert pm == o['payment_history'][0]['payment_method_id'] or m['source'] == 'gift_card', (oid, pm)
    pool = [i['item_id'] for i in o['items']]
    for a in items:
        assert a in pool, (oid, a)
        pool.remove(a)
    o['return_items'] = sorted(items)
    o['return_payment_method_id'] = pm
    o['status'] = 'return requested'


ORDER_WRITES = {'cancel': _cancel, 'addr': _readdress, 'pay': _repay,
                'items': _modify_items, 'exch': _exchange, 'ret': _return}


def apply(db, act):
    """Makes one write to db, asserting its preconditions. Actions:
    ('cancel', order, reason), ('addr', order, address), ('pay', order,
    method), ('items', order, old_ids, new_ids, method), ('exch', order,
    old_ids, new_ids, method), ('ret', order, item_ids, method),
    ('uaddr', user, address)."""
    kind, oid = act[0], act[1]
    if kind == 'uaddr':
        assert oid in db['users'], oid
        db['users'][oid]['address'] = act[2]
        return
    o = db['orders'][oid]
    if kind not in ORDER_WRITES:
        raise ValueError(kind)
    ORDER_WRITES[kind](db, o, oid, o['user_id'], *act[2:])


# ====================================================================== scenarios
def expectation(name, actions, reply, never, status):
    """The `expect` of a scenario: the records its actions change, as they
    must end up, and what the reply must and must not say."""
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
    assert bool(changed) == bool(actions), (name, 'an action changed nothing')
    expect = {k: v for k, v in expect.items() if v}
    expect['changed_only'] = sorted(changed)
    if status:
        expect['status'] = status
    if reply:
        expect['reply_contains'] = list(reply)
    if never:
        expect['reply_not_contains'] = list(never)
    return expect


def scenario_adder(prefix, scenarios):
    """S(name, category, turns, actions, reply, never, status, owner), which
    appends the scenario prefix + name to `scenarios`. `owner` names the
    customer of a read-only scenario."""
    def S(name, category, turns, actions=(), reply=(), never=(), status=None, owner=None):
        scenarios.append({'name': prefix + name, 'category': category, 'owner': owner,
                          'turns': list(turns), 'expect': expectation(name, actions, reply, never, status)})
    return S


# ====================================================================== earlier files
def named_with_zip(first, last, zip_, texts):
    """First name, last name and zip in the text of one scenario (batch 5's
    rule looked for each anywhere in all earlier files together, which counts
    almost every customer once there are six files)."""
    f, l = first.lower(), last.lower()
    return any(re.search(r'\b%s\b' % re.escape(f), t) and re.search(r'\b%s\b' % re.escape(l), t)
               and zip_ in t for t in texts)


def named_with_zip_anywhere(first, last, zip_, blob):
    """First name, last name and zip each anywhere in the earlier files (the
    rule up to batch 5)."""
    return first.lower() in blob and last.lower() in blob and zip_ in blob


def used_by(files, same_scenario_name_zip, eval_dir=EVAL):
    """Customers, orders and scenario names the scenario files use: a record
    named in an expectation, an email, user id or order id in a turn, a full
    name (or first + last name with the zip, in one scenario if
    same_scenario_name_zip, else anywhere) in a scenario, and every order of
    such a customer."""
    users, orders, names = set(), set(), set()
    texts = []
    for f in files:
        for s in json.load(open(os.path.join(eval_dir, f)))['scenarios']:
            names.add(s['name'])
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
        if full in blob or (
                named_with_zip(n['first_name'], n['last_name'], u['address']['zip'], texts)
                if same_scenario_name_zip else
                named_with_zip_anywhere(n['first_name'], n['last_name'], u['address']['zip'], blob)):
            users.add(uid)
    for o in orders:
        users.add(DB['orders'][o]['user_id'])
    for uid in list(users):
        orders.update(DB['users'][uid]['orders'])
    return users, orders, names


def mentioned(text):
    """Every customer a conversation's text points at: email, user id, order
    id, or full name."""
    text = text.lower()
    out = set()
    for m in re.findall(r'w\d{7}', text):
        oid = '#W' + m[1:]
        if oid in DB['orders']:
            out.add(DB['orders'][oid]['user_id'])
    by_name = {}
    for uid, u in DB['users'].items():
        n = u['name']
        full = (n['first_name'] + ' ' + n['last_name']).lower()
        if u['email'].lower() in text or uid in text:
            out.add(uid)
        if re.search(r'\b%s\b' % re.escape(full), text):
            by_name.setdefault(full, []).append(uid)
    # A name with the zip of one of its holders points at that holder only;
    # a name without any holder's zip points at every holder.
    for full, uids in by_name.items():
        with_zip = [u for u in uids if DB['users'][u]['address']['zip'] in text]
        out.update(with_zip or uids)
    return out


# ====================================================================== checks
def scenario_owners(s):
    """The customers whose records a scenario changes or whom it names as
    `owner`: asserted to be at most one."""
    owners = set()
    for i in s['expect']['changed_only']:
        owners.add(DB['orders'][i]['user_id'] if i.startswith('#') else i)
    if s['owner']:
        owners.add(s['owner'])
    assert len(owners) <= 1, (s['name'], owners)
    return owners


def assert_turn_references_exist(s):
    """Every email and order id in the turns exists, or was declared absent
    (no_such_email, no_such_order)."""
    for e in re.findall(r'[\w.+-]+@[\w-]+\.[\w.]+', ' '.join(s['turns']).lower()):
        assert e in ABSENT or any(u['email'].lower() == e for u in DB['users'].values()), (s['name'], e)
    for m in re.findall(r'w\d{7}', ' '.join(s['turns']).lower()):
        assert '#' + m in ABSENT or '#W' + m[1:] in DB['orders'], (s['name'], m)


def check_batch(scenarios, earlier, same_scenario_name_zip, check_turn_references):
    """Asserts that the names are new and that no customer or order of the
    batch appears in the earlier files; drops the `owner` fields and returns
    the customers the batch uses."""
    used_u, used_o, used_names = used_by(earlier, same_scenario_name_zip)
    names = [s['name'] for s in scenarios]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    assert not set(names) & used_names
    batch_users = set()
    for s in scenarios:
        owners = scenario_owners(s)
        if check_turn_references:
            assert_turn_references_exist(s)
        refs = owners | mentioned(' '.join(s['turns']))
        for u in refs:
            assert u not in used_u, (s['name'], u, 'customer used by an earlier file')
            for oid in DB['users'][u]['orders']:
                assert oid not in used_o, (s['name'], oid, 'order used by an earlier file')
        for i in s['expect']['changed_only']:
            assert i not in used_o and i not in used_u, (s['name'], i)
        batch_users |= refs
        del s['owner']
    return batch_users


def write_scenarios(scenarios, out):
    """One scenario a line, then reads the file back as JSON."""
    with open(out, 'w') as f:
        f.write('{"scenarios": [\n')
        f.write(',\n'.join('  ' + json.dumps(s, ensure_ascii=False) for s in scenarios))
        f.write('\n]}\n')
    json.load(open(out))


def finish_batch(scenarios, earlier, out, same_scenario_name_zip, check_turn_references):
    """Checks the batch (check_batch), writes it to out and reports its size
    and categories on stderr."""
    batch_users = check_batch(scenarios, earlier, same_scenario_name_zip, check_turn_references)
    write_scenarios(scenarios, out)
    counts = {}
    for s in scenarios:
        counts[s['category']] = counts.get(s['category'], 0) + 1
    print(len(scenarios), 'scenarios,', len(batch_users), 'customers, none used by',
          ', '.join(earlier), file=sys.stderr)
    print(json.dumps(counts, sort_keys=True), file=sys.stderr)


# ====================================================================== listing
def payment_summary(u):
    """A customer's payment methods: gift cards with their balance, cards
    with brand and last four digits."""
    return ','.join(k + ('(%s)' % v.get('balance') if v['source'] == 'gift_card'
                         else '(%s %s)' % (v.get('brand', ''), v.get('last_four', '')) if v['source'] == 'credit_card' else '')
                    for k, v in u['payment_methods'].items())


def print_unused(users, orders):
    """Prints every customer not in `users`, with their orders (items,
    payments, tracking), to choose a new batch's customers from."""
    print(len(users), 'customers and', len(orders), 'orders used', file=sys.stderr)
    for uid, u in DB['users'].items():
        if uid in users:
            continue
        n = u['name']
        print(uid, n['first_name'], n['last_name'], u['email'], u['address']['zip'], payment_summary(u))
        for oid in u['orders']:
            o = DB['orders'][oid]
            print('   ', oid, o['status'],
                  [(i['name'], i['item_id'], i['price'], '/'.join(i['options'].values())) for i in o['items']],
                  [(p['transaction_type'], p['amount'], p['payment_method_id']) for p in o['payment_history']],
                  [f['tracking_id'] for f in o['fulfillments']])
