package io.aigc.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.AutoCloseableSupplier.AutoCloseableImpl;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.tree.Node;
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
  private final Jinjava jinjava;
  private final Node root;

  private PromptTemplate(String source) {
    this.jinjava = JinjaEngine.create(Clock.systemUTC());
    JinjavaInterpreter parser = jinjava.newInterpreter();
    try (AutoCloseableImpl<JinjavaInterpreter> current = JinjavaInterpreter.closeablePushCurrent(parser).get()) {
      this.root = current.value().parse(source);
    }
    for (TemplateError e : parser.getErrorsCopy()) {
      if (e.getSeverity() == TemplateError.ErrorType.FATAL || e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR) {
        throw new IllegalArgumentException("the template does not parse: " + e.getMessage());
      }
    }
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
    JinjavaInterpreter interpreter = jinjava.newInterpreter();
    interpreter.getContext().putAll(variables);
    String output;
    try (AutoCloseableImpl<JinjavaInterpreter> current = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
      output = current.value().render(root);
    } catch (RuntimeException e) {
      throw new ChatTemplate.TemplateException("the template failed: " + e.getMessage(), e);
    }
    for (TemplateError e : interpreter.getErrorsCopy()) {
      for (Throwable t = e.getException(); t != null; t = t.getCause()) {
        if (t instanceof PythonSemantics.Raised) {
          throw new ChatTemplate.TemplateException(t.getMessage(), true);
        }
      }
      if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new ChatTemplate.TemplateException("the template failed: " + e.getMessage(), false);
      }
    }
    return output;
  }
}
