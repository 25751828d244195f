//! A deterministic demo store for trying HyperCommerce without real data.
//!
//! [`demo_store`] builds a small but realistic [`RetailDb`] from a seed, with
//! no data files, no network and no clock: the same seed always gives the same
//! store, byte for byte. It holds:
//!
//! - about 40 products in 8 categories, each with 3 to 12 variants drawn from
//!   option axes that fit the product (a T-shirt comes in colors and sizes, a
//!   coffee maker in capacities and colors), priced in a range that fits it,
//!   with a cost, a stock level and availability;
//! - about 300 US customers with unique emails, user ids and saved payment
//!   methods (credit cards, gift cards, PayPal);
//! - about 800 orders placed in the [`ORDER_WINDOW_DAYS`] days before
//!   [`DEMO_EPOCH_MS`], in every [`OrderStatus`], each in a state the retail
//!   rules in [`crate::rules`] could have produced: shipped orders have
//!   fulfillments, cancelled ones a refund, modified ones a price adjustment,
//!   exchange and return requests their recorded items and payment method.
//!
//! Gift card balances are the balances *after* all the demo orders, so an order
//! paid by gift card never needed more than the card holds now.

use std::collections::HashSet;

use hc_domain::{
    Address, Customer, Fulfillment, ItemId, Money, Order, OrderId, OrderItem, OrderStatus, Payment,
    PaymentMethod, PaymentMethodId, PersonName, Product, ProductId, RetailDb, TransactionType,
    UserId, Variant,
};
use indexmap::IndexMap;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use crate::text::fold;

/// The demo store's fixed "now", 2026-01-01T00:00:00Z (ms since the epoch).
/// Order times are drawn before it, never from the clock.
pub const DEMO_EPOCH_MS: i64 = 1_767_225_600_000;

/// Orders are placed in this many days before [`DEMO_EPOCH_MS`].
pub const ORDER_WINDOW_DAYS: i64 = 90;

/// The cancel reasons the default policy accepts.
pub const CANCEL_REASONS: [&str; 2] = ["no longer needed", "ordered by mistake"];

const DAY_MS: i64 = 86_400_000;
const CUSTOMER_COUNT: usize = 300;
const ORDER_COUNT: usize = 800;
/// When a product has more combinations than [`MAX_VARIANTS`], it offers this many at least.
const MIN_SAMPLED_VARIANTS: usize = 6;
const MAX_VARIANTS: usize = 12;
const MAX_GIFT_CARD_CENTS: i64 = 50_000;

// ---------------------------------------------------------------------------
// Catalog templates
// ---------------------------------------------------------------------------

/// One option axis of a product, e.g. `size: S, M, L`.
struct Axis {
    name: &'static str,
    values: &'static [&'static str],
    /// Percent added to the price for each step along the values: later sizes
    /// and capacities cost more, colors (0) do not move the price.
    step_pct: i64,
}

/// An axis whose values all cost the same (colors, scents, themes).
const fn plain(name: &'static str, values: &'static [&'static str]) -> Axis {
    Axis {
        name,
        values,
        step_pct: 0,
    }
}

/// An axis whose later values cost `step_pct` percent more each (sizes, capacities).
const fn tiered(name: &'static str, values: &'static [&'static str], step_pct: i64) -> Axis {
    Axis {
        name,
        values,
        step_pct,
    }
}

/// A product to generate: its variants are combinations of the axes' values.
struct Template {
    name: &'static str,
    category: &'static str,
    description: &'static str,
    /// Range, in whole dollars, of the base price: the price of the variant
    /// with the first value on every axis, before option premiums.
    dollars: (i64, i64),
    axes: &'static [Axis],
}

const LETTER_SIZES: &[&str] = &["S", "M", "L", "XL"];

const TEMPLATES: &[Template] = &[
    // apparel
    Template {
        name: "Classic Crew T-Shirt",
        category: "apparel",
        description: "A soft, breathable cotton tee with a relaxed fit for everyday wear.",
        dollars: (12, 24),
        axes: &[
            plain("color", &["white", "black", "navy", "heather gray", "red"]),
            tiered("size", &["S", "M", "L", "XL", "XXL"], 3),
        ],
    },
    Template {
        name: "Pullover Hoodie",
        category: "apparel",
        description: "A midweight fleece hoodie with a kangaroo pocket and a lined hood.",
        dollars: (38, 60),
        axes: &[
            plain("color", &["charcoal", "forest green", "burgundy", "black"]),
            tiered("size", LETTER_SIZES, 3),
        ],
    },
    Template {
        name: "Slim Fit Jeans",
        category: "apparel",
        description: "Stretch denim jeans cut slim through the hip and thigh.",
        dollars: (45, 89),
        axes: &[
            plain("wash", &["light", "medium", "dark", "black"]),
            plain("waist", &["30", "32", "34", "36"]),
        ],
    },
    Template {
        name: "Merino Wool Sweater",
        category: "apparel",
        description: "A fine-knit merino crewneck that stays warm without the bulk.",
        dollars: (75, 120),
        axes: &[
            plain("color", &["oatmeal", "navy", "olive"]),
            tiered("size", LETTER_SIZES, 3),
        ],
    },
    Template {
        name: "Packable Rain Jacket",
        category: "apparel",
        description: "A waterproof, windproof shell that folds into its own pocket.",
        dollars: (60, 130),
        axes: &[
            plain("color", &["yellow", "navy", "black", "red"]),
            tiered("size", LETTER_SIZES, 3),
        ],
    },
    // footwear
    Template {
        name: "Running Shoes",
        category: "footwear",
        description: "Lightweight cushioned running shoes with a breathable mesh upper.",
        dollars: (70, 150),
        axes: &[
            plain("color", &["black", "white", "blue", "coral"]),
            plain("size", &["7", "8", "9", "10", "11", "12"]),
        ],
    },
    Template {
        name: "Chelsea Boots",
        category: "footwear",
        description: "Full-grain leather Chelsea boots with elastic side panels and a stacked heel.",
        dollars: (120, 220),
        axes: &[
            plain("color", &["brown", "black", "tan"]),
            plain("size", &["8", "9", "10", "11"]),
        ],
    },
    Template {
        name: "Canvas Sneakers",
        category: "footwear",
        description: "Low-top canvas sneakers with a vulcanized rubber sole.",
        dollars: (35, 65),
        axes: &[
            plain("color", &["white", "black", "red", "navy"]),
            plain("size", &["6", "7", "8", "9", "10", "11"]),
        ],
    },
    Template {
        name: "Hiking Boots",
        category: "footwear",
        description: "Supportive mid-cut hiking boots with a grippy lugged outsole.",
        dollars: (90, 150),
        axes: &[
            tiered("material", &["synthetic", "leather"], 20),
            tiered("waterproof", &["no", "yes"], 15),
            plain("size", &["8", "9", "10", "11"]),
        ],
    },
    Template {
        name: "Wool Slippers",
        category: "footwear",
        description: "Cozy boiled-wool slippers with a cushioned footbed and a non-slip sole.",
        dollars: (25, 55),
        axes: &[
            plain("color", &["gray", "cream", "charcoal"]),
            plain("size", &["S", "M", "L"]),
        ],
    },
    // kitchen
    Template {
        name: "Drip Coffee Maker",
        category: "kitchen",
        description: "A programmable drip coffee maker with a thermal carafe and auto shut-off.",
        dollars: (35, 90),
        axes: &[
            tiered("capacity", &["8 cups", "10 cups", "12 cups"], 20),
            plain("color", &["black", "stainless steel", "white"]),
        ],
    },
    Template {
        name: "Chef's Knife",
        category: "kitchen",
        description: "A forged high-carbon steel chef's knife balanced for everyday prep.",
        dollars: (30, 110),
        axes: &[
            tiered("blade length", &["6 inch", "8 inch", "10 inch"], 25),
            tiered("handle", &["composite", "wood"], 20),
        ],
    },
    Template {
        name: "Cast Iron Skillet",
        category: "kitchen",
        description: "A pre-seasoned cast iron skillet that goes from stovetop to oven.",
        dollars: (20, 35),
        axes: &[tiered(
            "size",
            &["8 inch", "10 inch", "12 inch", "15 inch"],
            30,
        )],
    },
    Template {
        name: "Electric Kettle",
        category: "kitchen",
        description: "A fast-boiling electric kettle with variable temperature control.",
        dollars: (25, 60),
        axes: &[
            tiered("capacity", &["1L", "1.5L", "1.7L"], 10),
            plain("material", &["glass", "stainless steel", "plastic"]),
        ],
    },
    Template {
        name: "Countertop Blender",
        category: "kitchen",
        description: "A high-speed blender for smoothies, soups and crushed ice.",
        dollars: (39, 90),
        axes: &[
            tiered("power", &["500W", "1000W", "1500W"], 45),
            plain("color", &["black", "red", "silver"]),
        ],
    },
    // electronics
    Template {
        name: "Wireless Headphones",
        category: "electronics",
        description: "Over-ear headphones with active noise cancellation and all-day battery life.",
        dollars: (49, 180),
        axes: &[
            plain("color", &["black", "white", "blue", "rose gold"]),
            tiered("connectivity", &["wired", "bluetooth"], 60),
        ],
    },
    Template {
        name: "Bluetooth Speaker",
        category: "electronics",
        description: "A rugged, water-resistant portable speaker with deep bass.",
        dollars: (30, 110),
        axes: &[
            plain("color", &["black", "blue", "red", "green"]),
            tiered("battery life", &["10 hours", "20 hours"], 35),
        ],
    },
    Template {
        name: "Smartwatch",
        category: "electronics",
        description: "A fitness-focused smartwatch with heart-rate tracking and built-in GPS.",
        dollars: (149, 299),
        axes: &[
            tiered("case size", &["40mm", "44mm"], 10),
            plain("color", &["black", "silver", "gold"]),
            tiered("strap", &["silicone", "leather"], 15),
        ],
    },
    Template {
        name: "Mechanical Keyboard",
        category: "electronics",
        description: "A hot-swappable mechanical keyboard with a solid aluminum frame.",
        dollars: (60, 140),
        axes: &[
            plain("switch type", &["linear", "tactile", "clicky"]),
            tiered("layout", &["tenkeyless", "full size"], 10),
            tiered("backlight", &["white", "RGB"], 15),
        ],
    },
    Template {
        name: "Tablet",
        category: "electronics",
        description: "A 10-inch tablet with a bright display for reading, streaming and sketching.",
        dollars: (279, 449),
        axes: &[
            tiered("storage", &["64GB", "128GB", "256GB"], 25),
            plain("color", &["space gray", "silver"]),
            tiered("connectivity", &["wifi", "cellular"], 20),
        ],
    },
    // outdoor
    Template {
        name: "Camping Tent",
        category: "outdoor",
        description: "A freestanding tent with a full rain fly and a quick clip setup.",
        dollars: (90, 190),
        axes: &[
            tiered("capacity", &["2-person", "4-person", "6-person"], 40),
            tiered("season", &["3-season", "4-season"], 35),
        ],
    },
    Template {
        name: "Sleeping Bag",
        category: "outdoor",
        description: "A mummy sleeping bag with synthetic insulation and a draft collar.",
        dollars: (45, 120),
        axes: &[
            tiered("temperature rating", &["45°F", "30°F", "15°F"], 25),
            plain("color", &["green", "orange", "navy"]),
        ],
    },
    Template {
        name: "Hiking Backpack",
        category: "outdoor",
        description: "A ventilated trekking pack with an adjustable torso and a rain cover.",
        dollars: (55, 140),
        axes: &[
            tiered("capacity", &["30L", "45L", "60L"], 20),
            plain("color", &["black", "green", "gray"]),
        ],
    },
    Template {
        name: "Insulated Water Bottle",
        category: "outdoor",
        description: "A double-walled stainless steel bottle that keeps drinks cold for 24 hours.",
        dollars: (18, 35),
        axes: &[
            tiered("capacity", &["500ml", "750ml", "1000ml"], 15),
            plain("color", &["blue", "black", "green", "white"]),
        ],
    },
    Template {
        name: "Camping Stove",
        category: "outdoor",
        description: "A compact backpacking stove with a piezo igniter and a wind shield.",
        dollars: (35, 90),
        axes: &[
            tiered("fuel type", &["butane", "propane", "multi-fuel"], 30),
            tiered("burners", &["1", "2"], 45),
        ],
    },
    // home
    Template {
        name: "Throw Blanket",
        category: "home",
        description: "A cozy throw blanket sized for the couch or the foot of the bed.",
        dollars: (25, 60),
        axes: &[
            tiered("material", &["fleece", "cotton", "wool"], 35),
            plain("color", &["gray", "cream", "blue", "green"]),
        ],
    },
    Template {
        name: "Table Lamp",
        category: "home",
        description: "A mid-century table lamp with a linen shade and a dimmable base.",
        dollars: (35, 110),
        axes: &[
            plain("finish", &["brass", "matte black", "white"]),
            tiered("bulb type", &["incandescent", "LED"], 10),
        ],
    },
    Template {
        name: "Cotton Sheet Set",
        category: "home",
        description: "A breathable percale sheet set with a deep-pocket fitted sheet and two pillowcases.",
        dollars: (40, 90),
        axes: &[
            tiered("size", &["twin", "full", "queen", "king"], 18),
            plain("color", &["white", "gray", "sage"]),
        ],
    },
    Template {
        name: "Scented Candle",
        category: "home",
        description: "A hand-poured soy candle with a cotton wick and a clean, even burn.",
        dollars: (12, 24),
        axes: &[
            plain("scent", &["lavender", "vanilla", "cedarwood", "sea salt"]),
            tiered("size", &["small", "large"], 80),
        ],
    },
    Template {
        name: "Ergonomic Office Chair",
        category: "home",
        description: "An adjustable office chair with lumbar support and a breathable back.",
        dollars: (130, 299),
        axes: &[
            plain("color", &["black", "gray", "blue"]),
            tiered("armrests", &["fixed", "adjustable"], 15),
            tiered("material", &["fabric", "mesh"], 20),
        ],
    },
    // beauty
    Template {
        name: "Daily Facial Moisturizer",
        category: "beauty",
        description: "A lightweight, fragrance-free moisturizer with hyaluronic acid.",
        dollars: (16, 32),
        axes: &[
            plain("skin type", &["dry", "normal", "oily"]),
            tiered("size", &["50ml", "100ml"], 60),
        ],
    },
    Template {
        name: "Ionic Hair Dryer",
        category: "beauty",
        description: "A fast-drying ionic hair dryer with three heat settings and a cool shot.",
        dollars: (35, 150),
        axes: &[
            plain("color", &["black", "white", "pink"]),
            tiered("power", &["1600W", "1875W"], 25),
        ],
    },
    Template {
        name: "Eau de Parfum",
        category: "beauty",
        description: "A long-lasting eau de parfum in a refillable glass bottle.",
        dollars: (45, 90),
        axes: &[
            plain("scent family", &["floral", "woody", "citrus", "amber"]),
            tiered("size", &["30ml", "50ml", "100ml"], 45),
        ],
    },
    Template {
        name: "Electric Toothbrush",
        category: "beauty",
        description: "A rechargeable sonic toothbrush with a two-minute timer.",
        dollars: (28, 90),
        axes: &[
            plain("color", &["white", "black", "blue", "pink"]),
            tiered("brush heads", &["1", "3"], 20),
        ],
    },
    Template {
        name: "Mineral Sunscreen",
        category: "beauty",
        description: "A reef-friendly mineral sunscreen that rubs in without a white cast.",
        dollars: (10, 18),
        axes: &[
            tiered("SPF", &["30", "50"], 10),
            tiered("size", &["100ml", "200ml"], 65),
        ],
    },
    // toys
    Template {
        name: "Building Blocks Set",
        category: "toys",
        description: "A set of interlocking bricks with instructions for three different builds.",
        dollars: (18, 45),
        axes: &[
            tiered("pieces", &["250", "500", "1000"], 70),
            plain("theme", &["city", "space", "castle"]),
        ],
    },
    Template {
        name: "Jigsaw Puzzle",
        category: "toys",
        description: "A jigsaw puzzle printed on thick recycled board, with a poster guide.",
        dollars: (12, 22),
        axes: &[
            tiered("pieces", &["500", "1000", "1500"], 30),
            plain("theme", &["landscape", "animals", "art"]),
        ],
    },
    Template {
        name: "Remote Control Car",
        category: "toys",
        description: "A rechargeable off-road RC car with four-wheel drive.",
        dollars: (28, 70),
        axes: &[
            plain("color", &["red", "blue", "green"]),
            tiered("scale", &["1:16", "1:10"], 70),
        ],
    },
    Template {
        name: "Plush Teddy Bear",
        category: "toys",
        description: "A huggable plush bear made from super-soft recycled fibers.",
        dollars: (12, 25),
        axes: &[
            tiered("size", &["small", "medium", "large"], 60),
            plain("color", &["brown", "white", "honey"]),
        ],
    },
    Template {
        name: "Strategy Board Game",
        category: "toys",
        description: "A family strategy game of trading, building and racing to ten points.",
        dollars: (25, 45),
        axes: &[
            tiered("edition", &["standard", "deluxe"], 60),
            plain("language", &["English", "Spanish", "French"]),
        ],
    },
];

/// Price endings a product may use (`29.99`, `29.95`, `29.49`, `29.00`).
const PRICE_ENDINGS: &[i64] = &[99, 99, 95, 49, 0];

// ---------------------------------------------------------------------------
// People and places
// ---------------------------------------------------------------------------

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "James", "Mary", "Olivia", "Liam", "Noah", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Ethan",
    "Lucas", "Mason", "Harper", "Amelia", "Evelyn", "Benjamin", "Elijah", "Aiden", "Chloe",
    "Daniel", "Grace", "Henry", "Hannah", "Isaac", "Jack", "Layla", "Leo", "Lily", "Maya", "Nora",
    "Omar", "Priya", "Raj", "Sofia", "Yusuf", "Wei", "Mei", "Hiro", "Aisha", "Fatima", "Mohamed",
    "Carlos", "Diego", "Mateo", "Valentina", "Aarav", "Kwame", "Amara", "Sean", "Siobhan",
    "Ingrid", "Lucía", "José", "Zoë", "Chloé", "Renée", "André", "Björn", "Anaïs", "Noémie",
    "Joaquín",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Nguyen", "Hill", "Kim", "Patel", "Chen", "Wang", "Singh", "Khan", "Ali", "Silva", "Rossi",
    "Kowalski", "Novak", "O'Brien", "Okafor", "Tanaka", "Yamamoto", "Ivanova", "Dubois", "Müller",
    "Schröder", "Peña", "Núñez", "Gómez", "Ibáñez", "Lefèvre",
];

const STREETS: &[&str] = &[
    "Main Street",
    "Oak Street",
    "Maple Avenue",
    "Cedar Lane",
    "Elm Street",
    "Pine Road",
    "Washington Boulevard",
    "Lincoln Avenue",
    "Park Place",
    "Lakeview Drive",
    "Sunset Boulevard",
    "Highland Avenue",
    "Broadway",
    "River Road",
    "Hillcrest Drive",
    "Chestnut Street",
    "Willow Way",
    "Spruce Court",
    "Madison Avenue",
    "Jefferson Street",
    "Franklin Street",
    "Church Street",
    "Meadow Lane",
    "Forest Drive",
    "Cherry Lane",
    "Valley View Road",
    "Birch Street",
    "Magnolia Drive",
    "Harbor Drive",
    "Sycamore Avenue",
];

/// A city, its state and the range of its 5-digit zip codes.
struct City {
    name: &'static str,
    state: &'static str,
    zips: (u32, u32),
}

const fn city(name: &'static str, state: &'static str, lo: u32, hi: u32) -> City {
    City {
        name,
        state,
        zips: (lo, hi),
    }
}

const CITIES: &[City] = &[
    city("New York", "NY", 10001, 10040),
    city("Los Angeles", "CA", 90001, 90089),
    city("Chicago", "IL", 60601, 60661),
    city("Houston", "TX", 77002, 77099),
    city("Phoenix", "AZ", 85003, 85054),
    city("Philadelphia", "PA", 19102, 19154),
    city("San Antonio", "TX", 78201, 78260),
    city("San Diego", "CA", 92101, 92154),
    city("Dallas", "TX", 75201, 75254),
    city("Austin", "TX", 78701, 78759),
    city("Jacksonville", "FL", 32202, 32258),
    city("Columbus", "OH", 43201, 43235),
    city("Charlotte", "NC", 28202, 28280),
    city("Indianapolis", "IN", 46201, 46260),
    city("San Francisco", "CA", 94102, 94134),
    city("Seattle", "WA", 98101, 98199),
    city("Denver", "CO", 80202, 80249),
    city("Nashville", "TN", 37201, 37250),
    city("Boston", "MA", 2108, 2137),
    city("Portland", "OR", 97201, 97236),
    city("Las Vegas", "NV", 89101, 89149),
    city("Detroit", "MI", 48201, 48243),
    city("Atlanta", "GA", 30303, 30363),
    city("Minneapolis", "MN", 55401, 55488),
    city("Miami", "FL", 33125, 33199),
    city("Raleigh", "NC", 27601, 27617),
    city("Salt Lake City", "UT", 84101, 84121),
    city("Milwaukee", "WI", 53202, 53233),
    city("Albuquerque", "NM", 87101, 87123),
    city("Pittsburgh", "PA", 15201, 15244),
];

const CARD_BRANDS: &[(&str, u32)] = &[
    ("visa", 45),
    ("mastercard", 30),
    ("amex", 15),
    ("discover", 10),
];

// ---------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------

/// How often each status is drawn, in percent.
const STATUS_WEIGHTS: &[(OrderStatus, u32)] = &[
    (OrderStatus::Pending, 30),
    (OrderStatus::Processed, 15),
    (OrderStatus::Delivered, 35),
    (OrderStatus::Cancelled, 8),
    (OrderStatus::PendingItemModified, 4),
    (OrderStatus::ExchangeRequested, 4),
    (OrderStatus::ReturnRequested, 4),
];

/// How many items an order has, weighted toward small orders.
const ITEM_COUNT_WEIGHTS: &[(usize, u32)] = &[(1, 35), (2, 30), (3, 20), (4, 10), (5, 5)];

/// Chance that an order line repeats an earlier line of the same order.
const DUPLICATE_LINE_CHANCE: f64 = 0.07;

/// Chance that a shipped order went out in two parcels.
const SPLIT_SHIPMENT_CHANCE: f64 = 0.25;

/// How many days before the epoch an order in this status was placed: recent
/// orders are still pending, old ones delivered.
fn age_days(status: OrderStatus) -> (i64, i64) {
    match status {
        OrderStatus::Pending | OrderStatus::PendingItemModified => (0, 14),
        OrderStatus::Processed => (1, 21),
        OrderStatus::Delivered => (5, ORDER_WINDOW_DAYS),
        OrderStatus::Cancelled => (0, ORDER_WINDOW_DAYS),
        OrderStatus::ExchangeRequested | OrderStatus::ReturnRequested => (10, ORDER_WINDOW_DAYS),
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// Generates the demo store for `seed`. The same seed always yields an equal
/// store; see the module documentation for what it contains.
pub fn demo_store(seed: u64) -> RetailDb {
    let mut g = Gen::new(seed);
    let products = make_catalog(&mut g);
    let mut users = make_customers(&mut g);
    let orders = make_orders(&mut g, &products, &users);

    let mut by_id = IndexMap::with_capacity(orders.len());
    for order in orders {
        users
            .get_mut(&order.user_id)
            .expect("orders are placed by existing customers")
            .orders
            .push(order.order_id.clone());
        by_id.insert(order.order_id.clone(), order);
    }
    RetailDb {
        products,
        users,
        orders: by_id,
    }
}

/// The random source and the numbers already handed out as ids.
struct Gen {
    rng: StdRng,
    used_numbers: HashSet<u64>,
}

impl Gen {
    fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            used_numbers: HashSet::new(),
        }
    }

    /// A fresh number of exactly `digits` digits, never returned before. Product
    /// and item ids (10 digits) share this pool, so they can never collide.
    fn fresh_digits(&mut self, digits: u32) -> String {
        let lo = 10u64.pow(digits - 1);
        let hi = 10u64.pow(digits) - 1;
        loop {
            let n = self.rng.gen_range(lo..=hi);
            if self.used_numbers.insert(n) {
                return n.to_string();
            }
        }
    }

    fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u32 = table.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.gen_range(0..total);
        for &(value, weight) in table {
            if roll < weight {
                return value;
            }
            roll -= weight;
        }
        unreachable!("roll is below the total weight")
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.rng).expect("tables are non-empty")
    }
}

fn valid<T>(id: hc_domain::Result<T>) -> T {
    id.expect("generated ids are well formed")
}

// --- catalog ---------------------------------------------------------------

/// Products by id, in template order.
type Catalog = IndexMap<ProductId, Product>;

fn make_catalog(g: &mut Gen) -> Catalog {
    TEMPLATES
        .iter()
        .map(|t| {
            let product = make_product(g, t);
            (product.product_id.clone(), product)
        })
        .collect()
}

fn make_product(g: &mut Gen, t: &Template) -> Product {
    let product_id = valid(ProductId::parse(g.fresh_digits(10)));
    let base = g.rng.gen_range(t.dollars.0 * 100..=t.dollars.1 * 100);
    let ending = *g.pick(PRICE_ENDINGS);

    let mut variants: IndexMap<ItemId, Variant> = IndexMap::new();
    for combo in pick_combinations(g, t.axes) {
        let price = variant_price(g, t.axes, &combo, base, ending);
        let variant = make_variant(g, t.axes, &combo, price);
        variants.insert(variant.item_id.clone(), variant);
    }
    ensure_some_available(g, &mut variants);

    Product {
        name: t.name.to_string(),
        product_id,
        variants,
        description: Some(t.description.to_string()),
        category: Some(t.category.to_string()),
    }
}

/// The value index on each axis of the variants to offer: every combination
/// when there are at most [`MAX_VARIANTS`], else a sorted random selection.
fn pick_combinations(g: &mut Gen, axes: &[Axis]) -> Vec<Vec<usize>> {
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    let mut chosen: Vec<usize> = if total <= MAX_VARIANTS {
        (0..total).collect()
    } else {
        let k = g.rng.gen_range(MIN_SAMPLED_VARIANTS..=MAX_VARIANTS);
        sample(&mut g.rng, total, k).into_vec()
    };
    chosen.sort_unstable();
    chosen.into_iter().map(|n| mixed_radix(n, axes)).collect()
}

/// Splits combination number `n` into one value index per axis (last axis fastest).
fn mixed_radix(mut n: usize, axes: &[Axis]) -> Vec<usize> {
    let mut digits = vec![0; axes.len()];
    for (digit, axis) in digits.iter_mut().zip(axes).rev() {
        *digit = n % axis.values.len();
        n /= axis.values.len();
    }
    digits
}

/// Prices a variant: the product's base price plus each option's premium and
/// a little noise, ending in the product's usual cents.
fn variant_price(g: &mut Gen, axes: &[Axis], combo: &[usize], base: i64, ending: i64) -> i64 {
    let premium_pct: i64 = axes
        .iter()
        .zip(combo)
        .map(|(axis, &i)| axis.step_pct * i as i64)
        .sum();
    let noise_pct = g.rng.gen_range(-2..=2);
    let cents = base * (100 + premium_pct + noise_pct) / 100;
    (cents / 100 * 100 + ending).max(100)
}

fn make_variant(g: &mut Gen, axes: &[Axis], combo: &[usize], price: i64) -> Variant {
    let options = axes
        .iter()
        .zip(combo)
        .map(|(a, &i)| (a.name.to_string(), a.values[i].to_string()))
        .collect();
    let margin = g.rng.gen_range(35..=65);
    let stock = if g.rng.gen_bool(0.08) {
        0
    } else {
        g.rng.gen_range(1..=200)
    };
    Variant {
        item_id: valid(ItemId::parse(g.fresh_digits(10))),
        options,
        available: stock > 0,
        price: Money::from_cents(price),
        cost: Some(Money::from_cents(price * margin / 100)),
        stock: Some(stock),
    }
}

/// Restocks one variant when a product drew none in stock, so every product can be ordered.
fn ensure_some_available(g: &mut Gen, variants: &mut IndexMap<ItemId, Variant>) {
    if variants.values().any(|v| v.available) {
        return;
    }
    if let Some(v) = variants.values_mut().next() {
        v.stock = Some(g.rng.gen_range(5..=60));
        v.available = true;
    }
}

// --- customers ---------------------------------------------------------------

/// What must stay unique across customers.
#[derive(Default)]
struct Taken {
    user_ids: HashSet<String>,
    emails: HashSet<String>,
    name_zip: HashSet<(String, String, String)>,
}

fn make_customers(g: &mut Gen) -> IndexMap<UserId, Customer> {
    let mut taken = Taken::default();
    (0..CUSTOMER_COUNT)
        .map(|_| {
            let c = make_customer(g, &mut taken);
            (c.user_id.clone(), c)
        })
        .collect()
}

fn make_customer(g: &mut Gen, taken: &mut Taken) -> Customer {
    let (name, address) = loop {
        let name = PersonName {
            first_name: g.pick(FIRST_NAMES).to_string(),
            last_name: g.pick(LAST_NAMES).to_string(),
        };
        let address = make_address(g);
        let key = (
            name.first_name.clone(),
            name.last_name.clone(),
            address.zip.clone(),
        );
        if taken.name_zip.insert(key) {
            break (name, address);
        }
    };
    let first = id_part(&name.first_name);
    let last = id_part(&name.last_name);
    let (user_id, email) = loop {
        let n = g.rng.gen_range(1000..=9999);
        let user_id = format!("{first}_{last}_{n}");
        let email = format!("{first}.{last}{n}@example.com");
        if !taken.user_ids.contains(&user_id) && !taken.emails.contains(&email) {
            taken.user_ids.insert(user_id.clone());
            taken.emails.insert(email.clone());
            break (user_id, email);
        }
    };
    Customer {
        user_id: valid(UserId::parse(user_id)),
        name,
        address,
        email,
        payment_methods: make_payment_methods(g),
        orders: Vec::new(),
        cart: Vec::new(),
    }
}

/// A name as it appears in user ids and emails: lowercase ASCII letters only
/// ("Müller" → "muller", "O'Brien" → "obrien").
fn id_part(name: &str) -> String {
    fold(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn make_address(g: &mut Gen) -> Address {
    let city = g.pick(CITIES);
    let zip = g.rng.gen_range(city.zips.0..=city.zips.1);
    let address1 = format!("{} {}", g.rng.gen_range(1..=9999), g.pick(STREETS));
    let address2 = match g.rng.gen_range(0..100) {
        0..40 => format!("Suite {}", g.rng.gen_range(100..=999)),
        40..65 => format!("Apt {}", g.rng.gen_range(1..=40)),
        _ => String::new(),
    };
    Address {
        address1,
        address2,
        city: city.name.to_string(),
        country: "USA".to_string(),
        state: city.state.to_string(),
        zip: format!("{zip:05}"),
    }
}

#[derive(Clone, Copy)]
enum Source {
    CreditCard,
    GiftCard,
    Paypal,
}

fn make_payment_methods(g: &mut Gen) -> IndexMap<PaymentMethodId, PaymentMethod> {
    let count = g.weighted(&[(1, 45), (2, 35), (3, 20)]);
    let mut methods = IndexMap::new();
    let mut has_paypal = false;
    for _ in 0..count {
        let mut source = g.weighted(&[
            (Source::CreditCard, 50),
            (Source::GiftCard, 30),
            (Source::Paypal, 20),
        ]);
        if matches!(source, Source::Paypal) && has_paypal {
            source = Source::CreditCard;
        }
        has_paypal |= matches!(source, Source::Paypal);
        let method = make_payment_method(g, source);
        methods.insert(method.id().clone(), method);
    }
    methods
}

fn make_payment_method(g: &mut Gen, source: Source) -> PaymentMethod {
    let prefix = match source {
        Source::CreditCard => "credit_card",
        Source::GiftCard => "gift_card",
        Source::Paypal => "paypal",
    };
    let id = valid(PaymentMethodId::parse(format!(
        "{prefix}_{}",
        g.fresh_digits(7)
    )));
    match source {
        Source::CreditCard => PaymentMethod::CreditCard {
            id,
            brand: g.weighted(CARD_BRANDS).to_string(),
            last_four: format!("{:04}", g.rng.gen_range(0..10_000)),
        },
        Source::GiftCard => PaymentMethod::GiftCard {
            id,
            balance: Money::from_cents(g.rng.gen_range(0..=MAX_GIFT_CARD_CENTS)),
        },
        Source::Paypal => PaymentMethod::Paypal { id },
    }
}

// --- orders ------------------------------------------------------------------

/// All orders, sorted by creation time (ties by id).
fn make_orders(g: &mut Gen, products: &Catalog, users: &IndexMap<UserId, Customer>) -> Vec<Order> {
    let mut orders: Vec<Order> = (0..ORDER_COUNT)
        .map(|_| make_order(g, products, users))
        .collect();
    orders.sort_by(|a, b| (a.created_at_ms, &a.order_id).cmp(&(b.created_at_ms, &b.order_id)));
    orders
}

fn make_order(g: &mut Gen, products: &Catalog, users: &IndexMap<UserId, Customer>) -> Order {
    let status = g.weighted(STATUS_WEIGHTS);
    let (min_days, max_days) = age_days(status);
    let created_at_ms = DEMO_EPOCH_MS - g.rng.gen_range(min_days * DAY_MS..max_days * DAY_MS);
    let items = pick_items(g, products);
    let total: Money = items.iter().map(|i| i.price).sum();
    // A customer who can pay: anyone with a card or PayPal, or a gift card that covers it.
    let (customer, method) = loop {
        let (_, customer) = users
            .get_index(g.rng.gen_range(0..users.len()))
            .expect("index is in range");
        if let Some(method) = method_covering(g, customer, None, total) {
            break (customer, method);
        }
    };
    let mut order = Order::pending(
        valid(OrderId::parse(format!("#W{}", g.fresh_digits(7)))),
        customer.user_id.clone(),
        customer.address.clone(),
        items,
        transaction(TransactionType::Payment, total, method),
        Some(created_at_ms),
    );
    apply_status(g, &mut order, status, customer, products);
    order
}

fn transaction(kind: TransactionType, amount: Money, method: PaymentMethodId) -> Payment {
    Payment {
        transaction_type: kind,
        amount,
        payment_method_id: method,
    }
}

fn pick_items(g: &mut Gen, products: &Catalog) -> Vec<OrderItem> {
    let count = g.weighted(ITEM_COUNT_WEIGHTS);
    let mut items: Vec<OrderItem> = Vec::with_capacity(count);
    for _ in 0..count {
        let item = if !items.is_empty() && g.rng.gen_bool(DUPLICATE_LINE_CHANCE) {
            g.pick(&items).clone()
        } else {
            pick_new_item(g, products)
        };
        items.push(item);
    }
    items
}

/// An in-stock variant of a random product.
fn pick_new_item(g: &mut Gen, products: &Catalog) -> OrderItem {
    let (_, product) = products
        .get_index(g.rng.gen_range(0..products.len()))
        .expect("index is in range");
    let in_stock: Vec<&Variant> = product.variants.values().filter(|v| v.available).collect();
    let variant = *g.pick(&in_stock);
    order_item(product, variant)
}

fn order_item(product: &Product, variant: &Variant) -> OrderItem {
    OrderItem {
        name: product.name.clone(),
        product_id: product.product_id.clone(),
        item_id: variant.item_id.clone(),
        price: variant.price,
        options: variant.options.clone(),
    }
}

/// One of the customer's methods that can pay `amount`: `preferred` when it
/// can, else a random one; gift cards only when their balance covers it.
fn method_covering(
    g: &mut Gen,
    customer: &Customer,
    preferred: Option<&PaymentMethodId>,
    amount: Money,
) -> Option<PaymentMethodId> {
    let covers = |m: &PaymentMethod| match m {
        PaymentMethod::GiftCard { balance, .. } => *balance >= amount,
        _ => true,
    };
    if let Some(id) = preferred
        && customer.payment_methods.get(id).is_some_and(covers)
    {
        return Some(id.clone());
    }
    let usable: Vec<&PaymentMethod> = customer
        .payment_methods
        .values()
        .filter(|m| covers(m))
        .collect();
    usable.choose(&mut g.rng).map(|m| m.id().clone())
}

/// Brings a freshly placed (pending, paid) order into `status`. When a
/// modification or exchange is impossible (no other variant in stock, no
/// method that covers the difference) the order stays pending or delivered.
fn apply_status(
    g: &mut Gen,
    order: &mut Order,
    status: OrderStatus,
    customer: &Customer,
    products: &Catalog,
) {
    match status {
        OrderStatus::Pending => {}
        OrderStatus::Processed | OrderStatus::Delivered => {
            ship(g, order);
            order.status = status;
        }
        OrderStatus::Cancelled => cancel(g, order),
        OrderStatus::PendingItemModified => {
            modify_one_item(g, order, customer, products);
        }
        OrderStatus::ExchangeRequested => {
            ship(g, order);
            order.status = OrderStatus::Delivered;
            request_exchange(g, order, customer, products);
        }
        OrderStatus::ReturnRequested => {
            ship(g, order);
            request_return(g, order);
        }
    }
}

/// Ships every item, in one parcel or occasionally two, each with a tracking id.
fn ship(g: &mut Gen, order: &mut Order) {
    let ids: Vec<ItemId> = order.items.iter().map(|i| i.item_id.clone()).collect();
    let split = if ids.len() >= 2 && g.rng.gen_bool(SPLIT_SHIPMENT_CHANCE) {
        g.rng.gen_range(1..ids.len())
    } else {
        ids.len()
    };
    let (first, second) = ids.split_at(split);
    order.fulfillments = [first, second]
        .into_iter()
        .filter(|parcel| !parcel.is_empty())
        .map(|parcel| Fulfillment {
            tracking_id: vec![g.fresh_digits(12)],
            item_ids: parcel.to_vec(),
        })
        .collect();
}

/// Cancels the order and refunds each payment to its method.
fn cancel(g: &mut Gen, order: &mut Order) {
    let refunds: Vec<Payment> = order
        .payment_history
        .iter()
        .map(|p| {
            transaction(
                TransactionType::Refund,
                p.amount,
                p.payment_method_id.clone(),
            )
        })
        .collect();
    order.payment_history.extend(refunds);
    order.cancel_reason = Some(g.pick(&CANCEL_REASONS).to_string());
    order.status = OrderStatus::Cancelled;
}

/// Another in-stock variant of the item's product, if there is one.
fn alternative<'p>(g: &mut Gen, products: &'p Catalog, item: &OrderItem) -> Option<&'p Variant> {
    let product = products.get(&item.product_id)?;
    let others: Vec<&Variant> = product
        .variants
        .values()
        .filter(|v| v.available && v.item_id != item.item_id)
        .collect();
    others.choose(&mut g.rng).copied()
}

/// Item positions in a random order.
fn shuffled_positions(g: &mut Gen, order: &Order) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..order.items.len()).collect();
    positions.shuffle(&mut g.rng);
    positions
}

/// Swaps one item for another variant of its product and records the price
/// difference as a payment (price went up) or a refund (otherwise).
fn modify_one_item(g: &mut Gen, order: &mut Order, customer: &Customer, products: &Catalog) {
    let original = order.payment_history[0].payment_method_id.clone();
    for pos in shuffled_positions(g, order) {
        let Some(new) = alternative(g, products, &order.items[pos]) else {
            continue;
        };
        let diff = new.price - order.items[pos].price;
        let Some(method) = method_covering(g, customer, Some(&original), diff) else {
            continue;
        };
        let kind = if diff.is_positive() {
            TransactionType::Payment
        } else {
            TransactionType::Refund
        };
        let item = &mut order.items[pos];
        item.item_id = new.item_id.clone();
        item.price = new.price;
        item.options = new.options.clone();
        order
            .payment_history
            .push(transaction(kind, diff.abs(), method));
        order.status = OrderStatus::PendingItemModified;
        return;
    }
}

/// Requests an exchange of one or two delivered items for other variants.
fn request_exchange(g: &mut Gen, order: &mut Order, customer: &Customer, products: &Catalog) {
    let wanted = g.rng.gen_range(1..=2);
    let mut old_ids = Vec::new();
    let mut new_ids = Vec::new();
    let mut diff = Money::ZERO;
    for pos in shuffled_positions(g, order) {
        if old_ids.len() == wanted {
            break;
        }
        let item = &order.items[pos];
        if let Some(new) = alternative(g, products, item) {
            diff += new.price - item.price;
            old_ids.push(item.item_id.clone());
            new_ids.push(new.item_id.clone());
        }
    }
    if old_ids.is_empty() {
        return;
    }
    let original = order.payment_history[0].payment_method_id.clone();
    let Some(method) = method_covering(g, customer, Some(&original), diff) else {
        return;
    };
    old_ids.sort();
    new_ids.sort();
    order.exchange_items = Some(old_ids);
    order.exchange_new_items = Some(new_ids);
    order.exchange_payment_method_id = Some(method);
    order.exchange_price_difference = Some(diff);
    order.status = OrderStatus::ExchangeRequested;
}

/// Requests a return of some delivered items, refunded to the original method.
fn request_return(g: &mut Gen, order: &mut Order) {
    let n = order.items.len();
    let count = g.rng.gen_range(1..=n.min(3));
    let mut ids: Vec<ItemId> = sample(&mut g.rng, n, count)
        .into_iter()
        .map(|i| order.items[i].item_id.clone())
        .collect();
    ids.sort();
    order.return_items = Some(ids);
    order.return_payment_method_id = Some(order.payment_history[0].payment_method_id.clone());
    order.status = OrderStatus::ReturnRequested;
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::sync::OnceLock;

    use super::*;
    use crate::rules;

    fn store() -> &'static RetailDb {
        static STORE: OnceLock<RetailDb> = OnceLock::new();
        STORE.get_or_init(|| demo_store(42))
    }

    fn is_digits(s: &str, len: usize) -> bool {
        s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
    }

    fn variant_of<'a>(db: &'a RetailDb, item: &OrderItem) -> &'a Variant {
        let product = db
            .products
            .get(&item.product_id)
            .unwrap_or_else(|| panic!("unknown product {}", item.product_id));
        product
            .variants
            .get(&item.item_id)
            .unwrap_or_else(|| panic!("{} is not a variant of {}", item.item_id, product.name))
    }

    fn products_map(db: &RetailDb) -> rules::Products {
        db.products
            .iter()
            .map(|(id, p)| (id.clone(), p.clone()))
            .collect()
    }

    #[test]
    fn same_seed_gives_identical_store() {
        let a = demo_store(7);
        let b = demo_store(7);
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }

    #[test]
    fn different_seeds_give_different_stores() {
        let a = demo_store(1);
        let b = demo_store(2);
        assert_ne!(a, b);
        let ids = |db: &RetailDb| db.products.keys().cloned().collect::<Vec<_>>();
        assert_ne!(ids(&a), ids(&b));
        let users = |db: &RetailDb| db.users.keys().cloned().collect::<Vec<_>>();
        assert_ne!(users(&a), users(&b));
    }

    #[test]
    fn counts_are_in_range() {
        let db = store();
        assert!((35..=45).contains(&db.products.len()));
        assert!((250..=350).contains(&db.users.len()));
        assert!((700..=900).contains(&db.orders.len()));
        let categories: HashSet<_> = db.products.values().map(|p| &p.category).collect();
        assert!((6..=10).contains(&categories.len()), "{categories:?}");
        for p in db.products.values() {
            assert!((3..=12).contains(&p.variants.len()), "{}", p.name);
        }
        for c in db.users.values() {
            assert!((1..=3).contains(&c.payment_methods.len()), "{}", c.user_id);
        }
        for o in db.orders.values() {
            assert!((1..=5).contains(&o.items.len()), "{}", o.order_id);
        }
        let with_duplicates = db
            .orders
            .values()
            .filter(|o| {
                let ids: HashSet<_> = o.items.iter().map(|i| &i.item_id).collect();
                ids.len() < o.items.len()
            })
            .count();
        assert!(with_duplicates > 0, "some orders repeat an item");
    }

    #[test]
    fn every_status_appears_in_a_plausible_share() {
        let db = store();
        let n = db.orders.len() as f64;
        let share =
            |s: OrderStatus| db.orders.values().filter(|o| o.status == s).count() as f64 / n;
        let expected = [
            (OrderStatus::Pending, 0.22, 0.40),
            (OrderStatus::Processed, 0.09, 0.21),
            (OrderStatus::Delivered, 0.27, 0.43),
            (OrderStatus::Cancelled, 0.04, 0.12),
            (OrderStatus::PendingItemModified, 0.01, 0.08),
            (OrderStatus::ExchangeRequested, 0.01, 0.08),
            (OrderStatus::ReturnRequested, 0.01, 0.08),
        ];
        assert_eq!(expected.len(), OrderStatus::ALL.len());
        for (status, lo, hi) in expected {
            let s = share(status);
            assert!((lo..=hi).contains(&s), "{status}: {s}");
        }
    }

    #[test]
    fn other_seeds_also_cover_every_status() {
        for seed in [0, 1, 2, 3, 1234, u64::MAX] {
            let db = demo_store(seed);
            for status in OrderStatus::ALL {
                assert!(
                    db.orders.values().any(|o| o.status == status),
                    "seed {seed} has no {status} order"
                );
            }
            assert_eq!(db.users.len(), CUSTOMER_COUNT);
            assert_eq!(db.orders.len(), ORDER_COUNT);
        }
    }

    #[test]
    fn catalog_is_realistic() {
        let db = store();
        let mut unavailable = 0;
        for p in db.products.values() {
            assert!(!p.name.is_empty());
            assert!(p.description.as_deref().is_some_and(|d| d.ends_with('.')));
            assert!(p.category.is_some());
            assert!(p.variants.values().any(|v| v.available), "{}", p.name);
            let axes: Vec<_> = p.variants[0].options.keys().collect();
            let mut combos = HashSet::new();
            for v in p.variants.values() {
                assert_eq!(v.options.keys().collect::<Vec<_>>(), axes, "{}", p.name);
                assert!(
                    combos.insert(v.options.iter().collect::<Vec<_>>()),
                    "{} repeats options",
                    p.name
                );
                let price = v.price.cents();
                assert!((500..=100_000).contains(&price), "{}: {price}", p.name);
                let cost = v.cost.expect("cost is set").cents();
                assert!(cost * 100 >= price * 34 && cost * 100 <= price * 65);
                let stock = v.stock.expect("stock is set");
                assert!((0..=200).contains(&stock));
                assert_eq!(v.available, stock > 0);
                unavailable += usize::from(!v.available);
            }
        }
        assert!(unavailable > 0, "a few variants are out of stock");
    }

    #[test]
    fn products_pass_validation() {
        for (id, p) in &store().products {
            assert_eq!(id, &p.product_id);
            crate::service::validate_product(p).unwrap();
        }
    }

    #[test]
    fn item_ids_and_product_ids_are_unique_and_disjoint() {
        let db = store();
        let products: HashSet<&str> = db.products.keys().map(|k| k.as_str()).collect();
        let mut items = HashSet::new();
        for p in db.products.values() {
            assert!(is_digits(p.product_id.as_str(), 10));
            for id in p.variants.keys() {
                assert!(is_digits(id.as_str(), 10));
                assert!(items.insert(id.as_str()), "item {id} is repeated");
            }
        }
        assert_eq!(products.len(), db.products.len());
        assert!(products.is_disjoint(&items));
    }

    #[test]
    fn customers_are_unique_and_well_formed() {
        let db = store();
        let cities: HashMap<&str, &City> = CITIES.iter().map(|c| (c.name, c)).collect();
        let mut emails = HashSet::new();
        let mut people = HashSet::new();
        let mut methods = HashSet::new();
        for (id, c) in &db.users {
            assert_eq!(id, &c.user_id);
            let uid = c.user_id.as_str();
            assert!(
                uid.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            assert_eq!(uid.split('_').count(), 3, "{uid}");
            assert!(emails.insert(c.email.clone()), "email {} repeated", c.email);
            assert!(c.email.ends_with("@example.com") && c.email.is_ascii());
            assert_eq!(c.email, c.email.to_lowercase());
            let key = (&c.name.first_name, &c.name.last_name, &c.address.zip);
            assert!(people.insert(key), "{key:?} repeated");

            let a = &c.address;
            let city = cities[a.city.as_str()];
            assert_eq!(a.state, city.state);
            assert!(is_digits(&a.zip, 5));
            let zip: u32 = a.zip.parse().unwrap();
            assert!((city.zips.0..=city.zips.1).contains(&zip));
            assert_eq!(a.country, "USA");

            for (mid, m) in &c.payment_methods {
                assert_eq!(mid, m.id());
                assert!(methods.insert(mid.clone()), "{mid} repeated");
                let (prefix, digits) = mid.as_str().rsplit_once('_').unwrap();
                assert!(is_digits(digits, 7));
                match m {
                    PaymentMethod::CreditCard {
                        brand, last_four, ..
                    } => {
                        assert_eq!(prefix, "credit_card");
                        assert!(CARD_BRANDS.iter().any(|(b, _)| b == brand));
                        assert!(is_digits(last_four, 4));
                    }
                    PaymentMethod::GiftCard { balance, .. } => {
                        assert_eq!(prefix, "gift_card");
                        assert!((0..=MAX_GIFT_CARD_CENTS).contains(&balance.cents()));
                    }
                    PaymentMethod::Paypal { .. } => assert_eq!(prefix, "paypal"),
                }
            }
        }
        assert!(
            db.users
                .values()
                .any(|c| !c.name.last_name.is_ascii() || !c.name.first_name.is_ascii()),
            "some names carry diacritics"
        );
    }

    #[test]
    fn order_items_match_the_catalog() {
        let db = store();
        for o in db.orders.values() {
            let id = o.order_id.as_str();
            assert!(id.starts_with("#W") && is_digits(&id[2..], 7), "{id}");
            let customer = &db.users[&o.user_id];
            assert_eq!(o.address, customer.address);
            for item in &o.items {
                let product = &db.products[&item.product_id];
                let variant = variant_of(db, item);
                assert_eq!(item.name, product.name);
                assert_eq!(item.price, variant.price, "{id}");
                assert_eq!(item.options, variant.options, "{id}");
            }
        }
    }

    #[test]
    fn payments_match_item_totals() {
        let db = store();
        for o in db.orders.values() {
            let customer = &db.users[&o.user_id];
            let first = &o.payment_history[0];
            assert_eq!(first.transaction_type, TransactionType::Payment);
            if let PaymentMethod::GiftCard { balance, .. } =
                &customer.payment_methods[&first.payment_method_id]
            {
                assert!(*balance >= first.amount, "gift card covers {}", o.order_id);
            }
            for p in &o.payment_history {
                assert!(customer.payment_methods.contains_key(&p.payment_method_id));
            }
            let total = o.items_total();
            match o.status {
                OrderStatus::PendingItemModified => {
                    let [_, second] = o.payment_history.as_slice() else {
                        panic!("{} needs two payment entries", o.order_id);
                    };
                    let signed = match second.transaction_type {
                        TransactionType::Payment => second.amount,
                        TransactionType::Refund => -second.amount,
                    };
                    assert!(!second.amount.cents().is_negative());
                    assert_eq!(first.amount + signed, total, "{}", o.order_id);
                }
                OrderStatus::Cancelled => {
                    assert_eq!(first.amount, total);
                    let [_, refund] = o.payment_history.as_slice() else {
                        panic!("{} needs a refund", o.order_id);
                    };
                    assert_eq!(refund.transaction_type, TransactionType::Refund);
                    assert_eq!(refund.amount, first.amount);
                    assert_eq!(refund.payment_method_id, first.payment_method_id);
                }
                _ => {
                    assert_eq!(o.payment_history.len(), 1, "{}", o.order_id);
                    assert_eq!(first.amount, total, "{}", o.order_id);
                }
            }
        }
    }

    #[test]
    fn statuses_are_consistent_with_the_rules() {
        let db = store();
        let mut tracking = HashSet::new();
        for o in db.orders.values() {
            let shipped = matches!(
                o.status,
                OrderStatus::Processed
                    | OrderStatus::Delivered
                    | OrderStatus::ExchangeRequested
                    | OrderStatus::ReturnRequested
            );
            if shipped {
                assert!((1..=2).contains(&o.fulfillments.len()), "{}", o.order_id);
                let mut shipped_ids: Vec<_> =
                    o.fulfillments.iter().flat_map(|f| &f.item_ids).collect();
                let mut item_ids: Vec<_> = o.items.iter().map(|i| &i.item_id).collect();
                shipped_ids.sort();
                item_ids.sort();
                assert_eq!(shipped_ids, item_ids, "{}", o.order_id);
                for f in &o.fulfillments {
                    assert_eq!(f.tracking_id.len(), 1);
                    assert!(is_digits(&f.tracking_id[0], 12));
                    assert!(tracking.insert(f.tracking_id[0].clone()));
                }
            } else {
                assert!(o.fulfillments.is_empty(), "{}", o.order_id);
            }
            let cancelled = o.status == OrderStatus::Cancelled;
            assert_eq!(o.cancel_reason.is_some(), cancelled);
            if let Some(reason) = &o.cancel_reason {
                assert!(CANCEL_REASONS.contains(&reason.as_str()));
            }
            let exchange = o.status == OrderStatus::ExchangeRequested;
            assert_eq!(o.exchange_items.is_some(), exchange);
            assert_eq!(o.exchange_new_items.is_some(), exchange);
            assert_eq!(o.exchange_payment_method_id.is_some(), exchange);
            assert_eq!(o.exchange_price_difference.is_some(), exchange);
            let returned = o.status == OrderStatus::ReturnRequested;
            assert_eq!(o.return_items.is_some(), returned);
            assert_eq!(o.return_payment_method_id.is_some(), returned);
            if let Some(items) = &o.return_items {
                assert!(!items.is_empty() && items.is_sorted());
                assert_eq!(
                    o.return_payment_method_id.as_ref(),
                    Some(&o.payment_history[0].payment_method_id)
                );
            }
        }
    }

    /// Replays cancels, exchanges and returns through the real rules from the
    /// state before them: the rules must accept them and produce the same order.
    #[test]
    fn actions_replay_through_the_rules() {
        let db = store();
        let products = products_map(db);
        let reasons: Vec<String> = CANCEL_REASONS.iter().map(|r| r.to_string()).collect();
        let item_product: HashMap<&ItemId, &ProductId> = db
            .products
            .values()
            .flat_map(|p| p.variants.keys().map(move |i| (i, &p.product_id)))
            .collect();
        let mut replayed: HashMap<OrderStatus, usize> = HashMap::new();
        for o in db.orders.values() {
            let mut customer = db.users[&o.user_id].clone();
            let mut before = o.clone();
            match o.status {
                OrderStatus::Cancelled => {
                    before.status = OrderStatus::Pending;
                    before.cancel_reason = None;
                    before.payment_history.truncate(1);
                    let reason = o.cancel_reason.as_deref().unwrap();
                    rules::cancel_pending_order(&mut before, &mut customer, reason, &reasons)
                        .unwrap();
                }
                OrderStatus::ExchangeRequested => {
                    before.status = OrderStatus::Delivered;
                    before.exchange_items = None;
                    before.exchange_new_items = None;
                    before.exchange_payment_method_id = None;
                    before.exchange_price_difference = None;
                    // Pair each new item with an old one of the same product.
                    let mut old: Vec<ItemId> = o.exchange_items.clone().unwrap();
                    let mut paired_old = Vec::new();
                    let new = o.exchange_new_items.clone().unwrap();
                    assert!(new.is_sorted() && old.is_sorted());
                    for n in &new {
                        let pos = old
                            .iter()
                            .position(|x| item_product[x] == item_product[n])
                            .expect("new items are variants of the exchanged products");
                        paired_old.push(old.remove(pos));
                    }
                    let method = o.exchange_payment_method_id.clone().unwrap();
                    rules::exchange_delivered_order_items(
                        &mut before,
                        &customer,
                        &paired_old,
                        &new,
                        &method,
                        &products,
                    )
                    .unwrap();
                }
                OrderStatus::ReturnRequested => {
                    before.status = OrderStatus::Delivered;
                    before.return_items = None;
                    before.return_payment_method_id = None;
                    rules::return_delivered_order_items(
                        &mut before,
                        &customer,
                        o.return_items.as_deref().unwrap(),
                        o.return_payment_method_id.as_ref().unwrap(),
                        true,
                    )
                    .unwrap();
                }
                _ => continue,
            }
            assert_eq!(&before, o, "{}", o.order_id);
            *replayed.entry(o.status).or_default() += 1;
        }
        assert_eq!(
            replayed.len(),
            3,
            "cancels, exchanges and returns were replayed"
        );
    }

    #[test]
    fn customer_order_lists_match_the_orders() {
        let db = store();
        let mut expected: HashMap<&UserId, Vec<&OrderId>> = HashMap::new();
        let mut previous = i64::MIN;
        let window = DEMO_EPOCH_MS - ORDER_WINDOW_DAYS * DAY_MS..DEMO_EPOCH_MS;
        for (id, o) in &db.orders {
            assert_eq!(id, &o.order_id);
            assert!(db.users.contains_key(&o.user_id));
            let at = o.created_at_ms.expect("created_at_ms is set");
            assert!(window.contains(&at));
            assert!(at >= previous, "orders are listed in creation order");
            previous = at;
            expected.entry(&o.user_id).or_default().push(&o.order_id);
        }
        let oldest = db.orders.values().filter_map(|o| o.created_at_ms).min();
        assert!(
            oldest.unwrap() < DEMO_EPOCH_MS - 60 * DAY_MS,
            "orders span the window"
        );
        let mut listed = 0;
        for c in db.users.values() {
            let want = expected.remove(&c.user_id).unwrap_or_default();
            assert_eq!(c.orders.iter().collect::<Vec<_>>(), want, "{}", c.user_id);
            listed += c.orders.len();
        }
        assert_eq!(listed, db.orders.len());
    }

    #[test]
    fn json_round_trip_is_lossless() {
        let db = store();
        let json = serde_json::to_string(db).unwrap();
        let back: RetailDb = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, db);
    }
}
