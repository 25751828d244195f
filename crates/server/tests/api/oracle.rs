//! An independent model of SPEC §5's write tools on the raw τ-retail JSON,
//! in cents, sharing no code with `hc-commerce`. Replay tests compare the
//! server against it call by call (outcome and error code) and by final state.

use serde_json::{Value, json};

pub struct Oracle {
    pub db: Value,
}

fn cents(v: &Value) -> i64 {
    (v.as_f64().expect("number") * 100.0).round() as i64
}

fn money(c: i64) -> Value {
    json!(c as f64 / 100.0)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

type Outcome = Result<(), &'static str>;

impl Oracle {
    pub fn new(db: Value) -> Self {
        Self { db }
    }

    fn order(&self, id: &str) -> Result<Value, &'static str> {
        self.db["orders"].get(id).cloned().ok_or("order_not_found")
    }

    fn method(&self, user: &str, pm: &str) -> Result<Value, &'static str> {
        self.db["users"][user]["payment_methods"]
            .get(pm)
            .cloned()
            .ok_or("payment_method_not_found")
    }

    fn is_gift(m: &Value) -> bool {
        m["source"] == "gift_card"
    }

    fn adjust_gift(&mut self, user: &str, pm: &str, delta: i64) {
        let m = &mut self.db["users"][user]["payment_methods"][pm];
        if m["source"] == "gift_card" {
            let b = cents(&m["balance"]) + delta;
            m["balance"] = money(b);
        }
    }

    fn present(order: &Value, wanted: &[String]) -> bool {
        let mut have: Vec<String> = order["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["item_id"].as_str().unwrap().to_string())
            .collect();
        wanted
            .iter()
            .all(|w| match have.iter().position(|h| h == w) {
                Some(i) => {
                    have.swap_remove(i);
                    true
                }
                None => false,
            })
    }

    /// Price difference of swapping old → new, or the failing rule.
    fn swap_diff(
        &self,
        order: &Value,
        old: &[String],
        new: &[String],
        forbid_same: bool,
    ) -> Result<i64, &'static str> {
        if old.is_empty() {
            return Err("invalid_arguments");
        }
        if !Self::present(order, old) {
            return Err("item_not_in_order");
        }
        if old.len() != new.len() {
            return Err("item_count_mismatch");
        }
        let mut diff = 0;
        for (o, n) in old.iter().zip(new) {
            if forbid_same && o == n {
                return Err("same_item");
            }
            let item = order["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["item_id"] == o.as_str())
                .unwrap();
            let product = &self.db["products"][item["product_id"].as_str().unwrap()];
            let Some(variant) = product["variants"].get(n.as_str()) else {
                return Err("item_not_found");
            };
            if variant["available"] != true {
                return Err("item_unavailable");
            }
            diff += cents(&variant["price"]) - cents(&item["price"]);
        }
        Ok(diff)
    }

    fn covers(m: &Value, needed: i64) -> Outcome {
        if Self::is_gift(m) && cents(&m["balance"]) < needed {
            return Err("insufficient_gift_card_balance");
        }
        Ok(())
    }

    pub fn call(&mut self, tool: &str, a: &Value) -> Outcome {
        let oid = a["order_id"].as_str().unwrap_or_default().to_string();
        match tool {
            "cancel_pending_order" => {
                let order = self.order(&oid)?;
                if order["status"] != "pending" {
                    return Err("order_not_pending");
                }
                let reason = a["reason"].as_str().unwrap();
                if reason != "no longer needed" && reason != "ordered by mistake" {
                    return Err("invalid_reason");
                }
                let user = order["user_id"].as_str().unwrap().to_string();
                let history = order["payment_history"].as_array().unwrap().clone();
                let o = &mut self.db["orders"][&oid];
                for p in &history {
                    let mut refund = p.clone();
                    refund["transaction_type"] = json!("refund");
                    o["payment_history"].as_array_mut().unwrap().push(refund);
                }
                o["status"] = json!("cancelled");
                o["cancel_reason"] = json!(reason);
                for p in &history {
                    self.adjust_gift(
                        &user,
                        p["payment_method_id"].as_str().unwrap(),
                        cents(&p["amount"]),
                    );
                }
                Ok(())
            }
            "modify_pending_order_address" => {
                let order = self.order(&oid)?;
                if !order["status"].as_str().unwrap().contains("pending") {
                    return Err("order_not_pending");
                }
                let addr: serde_json::Map<String, Value> =
                    ["address1", "address2", "city", "country", "state", "zip"]
                        .iter()
                        .map(|k| (k.to_string(), a[*k].clone()))
                        .collect();
                self.db["orders"][&oid]["address"] = Value::Object(addr);
                Ok(())
            }
            "modify_user_address" => {
                let uid = a["user_id"].as_str().unwrap();
                if self.db["users"].get(uid).is_none() {
                    return Err("user_not_found");
                }
                let addr: serde_json::Map<String, Value> =
                    ["address1", "address2", "city", "country", "state", "zip"]
                        .iter()
                        .map(|k| (k.to_string(), a[*k].clone()))
                        .collect();
                self.db["users"][uid]["address"] = Value::Object(addr);
                Ok(())
            }
            "modify_pending_order_payment" => {
                let order = self.order(&oid)?;
                if !order["status"].as_str().unwrap().contains("pending") {
                    return Err("order_not_pending");
                }
                let user = order["user_id"].as_str().unwrap().to_string();
                let pm = a["payment_method_id"].as_str().unwrap().to_string();
                let m = self.method(&user, &pm)?;
                let hist = order["payment_history"].as_array().unwrap();
                if hist.len() != 1 || hist[0]["transaction_type"] != "payment" {
                    return Err("payment_history_not_single");
                }
                let old = hist[0]["payment_method_id"].as_str().unwrap().to_string();
                if old == pm {
                    return Err("same_payment_method");
                }
                let amount = cents(&hist[0]["amount"]);
                Self::covers(&m, amount)?;
                let h = self.db["orders"][&oid]["payment_history"]
                    .as_array_mut()
                    .unwrap();
                h.push(json!({"transaction_type": "payment", "amount": money(amount), "payment_method_id": pm}));
                h.push(json!({"transaction_type": "refund", "amount": money(amount), "payment_method_id": old}));
                self.adjust_gift(&user, &pm, -amount);
                self.adjust_gift(&user, &old, amount);
                Ok(())
            }
            "modify_pending_order_items" | "exchange_delivered_order_items" => {
                let modify = tool == "modify_pending_order_items";
                let order = self.order(&oid)?;
                let wanted = if modify { "pending" } else { "delivered" };
                if order["status"] != wanted {
                    return Err(if modify {
                        "order_not_pending"
                    } else {
                        "order_not_delivered"
                    });
                }
                let (old, new) = (strs(&a["item_ids"]), strs(&a["new_item_ids"]));
                let diff = self.swap_diff(&order, &old, &new, modify)?;
                let user = order["user_id"].as_str().unwrap().to_string();
                let pm = a["payment_method_id"].as_str().unwrap().to_string();
                let m = self.method(&user, &pm)?;
                Self::covers(&m, diff)?;
                if modify {
                    let kind = if diff > 0 { "payment" } else { "refund" };
                    let entry = json!({"transaction_type": kind, "amount": money(diff.abs()), "payment_method_id": pm});
                    self.db["orders"][&oid]["payment_history"]
                        .as_array_mut()
                        .unwrap()
                        .push(entry);
                    let n = self.db["orders"][&oid]["items"].as_array().unwrap().len();
                    let mut replaced = vec![false; n];
                    for (old_id, new_id) in old.iter().zip(&new) {
                        let items = self.db["orders"][&oid]["items"].as_array().unwrap();
                        let i = (0..n)
                            .find(|&i| !replaced[i] && items[i]["item_id"] == old_id.as_str())
                            .unwrap();
                        replaced[i] = true;
                        let product = items[i]["product_id"].as_str().unwrap().to_string();
                        let v = self.db["products"][&product]["variants"][new_id].clone();
                        let item = &mut self.db["orders"][&oid]["items"][i];
                        item["item_id"] = json!(new_id);
                        item["price"] = v["price"].clone();
                        item["options"] = v["options"].clone();
                    }
                    self.db["orders"][&oid]["status"] = json!("pending (item modified)");
                    self.adjust_gift(&user, &pm, -diff);
                } else {
                    let (mut so, mut sn) = (old.clone(), new.clone());
                    so.sort();
                    sn.sort();
                    let o = &mut self.db["orders"][&oid];
                    o["status"] = json!("exchange requested");
                    o["exchange_items"] = json!(so);
                    o["exchange_new_items"] = json!(sn);
                    o["exchange_payment_method_id"] = json!(pm);
                    o["exchange_price_difference"] = money(diff);
                }
                Ok(())
            }
            "return_delivered_order_items" => {
                let order = self.order(&oid)?;
                if order["status"] != "delivered" {
                    return Err("order_not_delivered");
                }
                let user = order["user_id"].as_str().unwrap().to_string();
                let pm = a["payment_method_id"].as_str().unwrap().to_string();
                let m = self.method(&user, &pm)?;
                if !Self::is_gift(&m)
                    && order["payment_history"][0]["payment_method_id"] != pm.as_str()
                {
                    return Err("refund_method_not_allowed");
                }
                let items = strs(&a["item_ids"]);
                if items.is_empty() {
                    return Err("invalid_arguments");
                }
                if !Self::present(&order, &items) {
                    return Err("item_not_in_order");
                }
                let mut sorted = items.clone();
                sorted.sort();
                let o = &mut self.db["orders"][&oid];
                o["status"] = json!("return requested");
                o["return_items"] = json!(sorted);
                o["return_payment_method_id"] = json!(pm);
                Ok(())
            }
            other => panic!("oracle does not model {other}"),
        }
    }
}
