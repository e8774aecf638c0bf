"""Rasa NLU component: every typed message is one intent, ``text``.

    pipeline:
      - name: bot.typed_text.TypedText

What a typed message means is decided on the knowledge side, in the action
server (``knowledge.understanding``), from the message's multilingual
embedding, retrieval's scores and the conversation's context: an n-gram
classifier trained on a few examples per language read "I need help" as
feedback and a residence-permit question as goodbye (issue 16).

Button payloads ("/ask_human", '/feedback{"helpful": "no"}') never reach this
choice: Rasa's RegexMessageHandler replaces the intent of a message that names
a known intent after "/", so payloads keep their own rules. An unknown payload
("/get_started" from off-the-shelf web-chat clients) stays ``text``. This
module runs in Rasa's Python 3.10 environment.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

INTENT = "text"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class TypedText(GraphComponent):
    """Marks every message as ``text`` with full confidence."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TypedText:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = {"name": INTENT, "confidence": 1.0}
            message.set("intent", intent, add_to_output=True)
            message.set("intent_ranking", [intent], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
