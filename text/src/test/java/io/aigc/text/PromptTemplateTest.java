package io.aigc.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PromptTemplateTest {
  private static final String TEMPLATE = "Title: {{ title }}\n{% if source %}\nSource: {{ source }}\n{% endif %}\n"
      + "\n{{ body }}\n\nSummary:";

  @Test
  void fieldsFillTheTemplateAndAnOptionalOneLeftOutLeavesNoLine() {
    PromptTemplate template = PromptTemplate.of(TEMPLATE);

    assertThat(template.render(Map.of("title", "Seeds", "source", "Wire", "body", "A vault opened.")))
        .isEqualTo("Title: Seeds\nSource: Wire\n\nA vault opened.\n\nSummary:");
    assertThat(template.render(Map.of("title", "Seeds", "body", "A vault opened.")))
        .isEqualTo("Title: Seeds\n\nA vault opened.\n\nSummary:");
  }

  @Test
  void aFieldIsTextNeverTemplateCode() {
    assertThat(PromptTemplate.of("<{{ body }}>").render(Map.of("body", "{{ 7 * 7 }} {% if x %}")))
        .isEqualTo("<{{ 7 * 7 }} {% if x %}>");
  }

  @Test
  void aBrokenTemplateIsRefusedWhenParsedAndARaiseIsTheTemplatesOwnMessage() {
    assertThatThrownBy(() -> PromptTemplate.of("{% if x %}never closed")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not parse");
    ChatTemplate.TemplateException raised = org.junit.jupiter.api.Assertions.assertThrows(
        ChatTemplate.TemplateException.class,
        () -> PromptTemplate.of("{% if body|length > 5 %}{{ raise_exception('too long') }}{% endif %}{{ body }}")
            .render(Map.of("body", "far too long")));
    assertThat(raised.raisedByTemplate()).isTrue();
    assertThat(raised.getMessage()).isEqualTo("too long");
  }
}
