//! Natural-language understanding for the built-in offline brain: a trained
//! intent classifier, the project's retail intent corpus, and entity
//! extraction.

pub mod classifier;
pub mod entities;
pub mod intents;

use std::sync::{Arc, OnceLock};

use classifier::{TextClassifier, TrainConfig};
use entities::Entities;
use intents::Intent;

/// What the engine understood of one message.
#[derive(Clone, Debug)]
pub struct Understanding {
    pub text: String,
    pub intent: Intent,
    pub confidence: f32,
    pub entities: Entities,
}

/// The intent classifier trained on the project's corpus, plus entity extraction.
pub struct Nlu {
    classifier: TextClassifier,
}

impl Nlu {
    /// Trains on the built-in corpus plus `extra` examples (e.g. a tenant's own).
    pub fn train(extra: &[(String, Intent)]) -> Result<Self, classifier::ClassifierError> {
        let examples: Vec<(String, String)> = intents::corpus()
            .into_iter()
            .chain(extra.iter().cloned())
            .map(|(t, i)| (t, i.as_str().to_string()))
            .collect();
        Ok(Self {
            classifier: TextClassifier::train(&examples, &TrainConfig::default())?,
        })
    }

    /// The built-in model, trained once per process.
    pub fn builtin() -> Arc<Nlu> {
        static NLU: OnceLock<Arc<Nlu>> = OnceLock::new();
        NLU.get_or_init(|| Arc::new(Nlu::train(&[]).expect("the built-in corpus trains")))
            .clone()
    }

    pub fn understand(&self, text: &str) -> Understanding {
        let entities = entities::extract(text);
        let p = self.classifier.predict(text);
        let mut intent = Intent::parse(&p.label).unwrap_or(Intent::OutOfScope);
        let mut confidence = p.confidence;
        // A short, clear yes/no is an answer whatever else the model thinks.
        if let Some(yes) = entities.yes_no
            && text.split_whitespace().count() <= 4
        {
            intent = if yes { Intent::Affirm } else { Intent::Deny };
            confidence = confidence.max(0.9);
        }
        Understanding {
            text: text.to_string(),
            intent,
            confidence,
            entities,
        }
    }
}
