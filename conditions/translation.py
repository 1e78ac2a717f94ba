"""Which texts of condition content are translated (django-modeltranslation).

English is the original; each field gets a column per language in settings.LANGUAGES
(`title_en`, `title_es`), and the field itself reads in the active language, falling
back to English where a translation is missing.
"""

from modeltranslation.translator import TranslationOptions, register

from .models import Condition, HistoryQuestion, RedFlagRule, Section, SectionItem


@register(Condition)
class ConditionTranslation(TranslationOptions):
    fields = Condition.TRANSLATED_FIELDS


@register(Section)
class SectionTranslation(TranslationOptions):
    fields = Section.TRANSLATED_FIELDS


@register(SectionItem)
class SectionItemTranslation(TranslationOptions):
    fields = SectionItem.TRANSLATED_FIELDS


@register(HistoryQuestion)
class HistoryQuestionTranslation(TranslationOptions):
    fields = HistoryQuestion.TRANSLATED_FIELDS


@register(RedFlagRule)
class RedFlagRuleTranslation(TranslationOptions):
    fields = RedFlagRule.TRANSLATED_FIELDS
