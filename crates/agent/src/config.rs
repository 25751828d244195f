//! How the agent is configured: its voice and which brain answers.

use serde::{Deserialize, Serialize};

use crate::dialogue::MIN_CONFIDENCE;
use crate::llm::{Llm, LlmConfig};
use crate::nlu::Understanding;
use crate::nlu::intents::Intent;
use crate::replies::{Tone, Voice};
use crate::state::DialogueState;

/// Which brain answers customer messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrainMode {
    /// The built-in engine only (no network).
    #[default]
    Offline,
    /// The LLM answers every turn (closing and ratings stay with the built-in engine).
    Llm,
    /// The built-in engine answers turns it understands confidently; the LLM the rest.
    Hybrid,
}

/// What to do when the LLM provider fails after its retries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLlmFailure {
    /// Answer the turn with the built-in engine.
    #[default]
    Offline,
    /// Hand the conversation to a human.
    Handoff,
}

/// The `agent` configuration section.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The shop's name, used in greetings.
    pub brand: String,
    pub tone: Tone,
    pub brain: BrainMode,
    /// In hybrid mode, the built-in engine answers when its intent confidence is at least this.
    pub hybrid_threshold: f32,
    pub on_llm_failure: OnLlmFailure,
    pub llm: LlmConfig,
}

impl Default for AgentConfig {
    fn default() -> Self {
        let voice = Voice::default();
        Self {
            brand: voice.brand,
            tone: voice.tone,
            brain: BrainMode::Offline,
            hybrid_threshold: 0.75,
            on_llm_failure: OnLlmFailure::Offline,
            llm: LlmConfig::default(),
        }
    }
}

impl AgentConfig {
    pub fn voice(&self) -> Voice {
        Voice {
            brand: self.brand.clone(),
            tone: self.tone,
            greeting: None,
        }
    }

    /// The brain this configuration asks for; an error names what is wrong.
    pub fn brain(&self) -> Result<Brain, String> {
        if !(0.0..=1.0).contains(&self.hybrid_threshold) {
            return Err("agent.hybrid_threshold must be between 0 and 1".into());
        }
        if self.brain == BrainMode::Offline {
            return Ok(Brain::offline());
        }
        if self.llm.model.trim().is_empty() {
            return Err("agent.llm.model is required when agent.brain is llm or hybrid".into());
        }
        if self.llm.max_rounds == 0 || self.llm.timeout_ms == 0 {
            return Err("agent.llm.max_rounds and agent.llm.timeout_ms must be positive".into());
        }
        Ok(Brain {
            mode: self.brain,
            llm: Some(Llm::new(self.llm.clone())),
            hybrid_threshold: self.hybrid_threshold,
            on_failure: self.on_llm_failure,
        })
    }
}

/// The brains an agent runs and how it picks one per turn.
#[derive(Clone, Debug)]
pub struct Brain {
    pub mode: BrainMode,
    pub llm: Option<Llm>,
    pub hybrid_threshold: f32,
    pub on_failure: OnLlmFailure,
}

impl Brain {
    pub fn offline() -> Self {
        Self {
            mode: BrainMode::Offline,
            llm: None,
            hybrid_threshold: 0.75,
            on_failure: OnLlmFailure::Offline,
        }
    }

    /// An LLM brain (or hybrid) over a given client.
    pub fn with_llm(mode: BrainMode, llm: Llm) -> Self {
        Self {
            mode,
            llm: Some(llm),
            ..Self::offline()
        }
    }

    /// The LLM to answer this turn with, if any.
    pub fn llm_for(&self, u: &Understanding, state: &DialogueState, text: &str) -> Option<&Llm> {
        let llm = self.llm.as_ref()?;
        // Closing the conversation and ratings are deterministic in every mode.
        let rating = state.awaiting_rating && text.trim().len() <= 12;
        let closing = matches!(u.intent, Intent::Thanks | Intent::Goodbye)
            && u.confidence >= 0.8
            && state.proposal.is_none();
        if rating || closing {
            return None;
        }
        match self.mode {
            BrainMode::Offline => None,
            BrainMode::Llm => Some(llm),
            BrainMode::Hybrid => {
                let llm_thread = state.llm_active && state.proposal.is_some();
                let offline_thread =
                    !state.llm_active && (state.goal.is_some() || state.proposal.is_some());
                let confident = u.confidence >= self.hybrid_threshold.max(MIN_CONFIDENCE)
                    && u.intent != Intent::OutOfScope;
                if llm_thread {
                    Some(llm)
                } else if offline_thread || confident {
                    None
                } else {
                    Some(llm)
                }
            }
        }
    }
}
