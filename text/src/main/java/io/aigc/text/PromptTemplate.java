package io.aigc.text;

import java.time.Clock;
import java.util.Map;

/**
 * A prompt written as a Jinja template whose variables are strings: a named task's template, rendered with the
 * request's fields. The engine is the chat templates' (trim_blocks and lstrip_blocks, so a {@code {% if %}} on a
 * line of its own leaves no blank line; a field's value is never rendered again as a template). An undefined
 * variable renders empty, as in jinja2.
 *
 * <p>Immutable and thread-safe: parsed once, each render with an interpreter of its own.
 */
public final class PromptTemplate {
  private final CompiledTemplate template;

  private PromptTemplate(String source) {
    this.template = new CompiledTemplate(source, "template", Clock.systemUTC());
  }

  /** @throws IllegalArgumentException when the template does not parse */
  public static PromptTemplate of(String source) {
    if (source == null || source.isEmpty()) {
      throw new IllegalArgumentException("empty template");
    }
    return new PromptTemplate(source);
  }

  /**
   * The prompt with {@code variables} in place.
   *
   * @throws ChatTemplate.TemplateException when the template fails on these values (it called
   *     {@code raise_exception}, say: then {@link ChatTemplate.TemplateException#raisedByTemplate()})
   */
  public String render(Map<String, String> variables) {
    return template.render(variables);
  }
}
