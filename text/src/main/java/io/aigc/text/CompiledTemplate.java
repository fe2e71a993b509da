package io.aigc.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.AutoCloseableSupplier.AutoCloseableImpl;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.tree.Node;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Jinja template parsed once by the engine {@link JinjaEngine} sets up, and rendered with an interpreter of its own
 * each time: immutable and thread-safe. Chat templates and named tasks' prompt templates are both this.
 */
final class CompiledTemplate {
  private final String what;
  private final Jinjava jinjava;
  private final Node root;

  /**
   * @param what the template's kind in messages ("chat template")
   * @throws IllegalArgumentException when the template does not parse
   */
  CompiledTemplate(String source, String what, Clock clock) {
    this.what = what;
    this.jinjava = JinjaEngine.create(clock);
    JinjavaInterpreter parser = jinjava.newInterpreter();
    try (AutoCloseableImpl<JinjavaInterpreter> current = JinjavaInterpreter.closeablePushCurrent(parser).get()) {
      this.root = current.value().parse(source);
    }
    for (TemplateError e : parser.getErrorsCopy()) {
      // Jinjava takes a stray end tag for a warning; jinja2 refuses the template, and so does this.
      if (e.getSeverity() == TemplateError.ErrorType.FATAL || e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR) {
        throw new IllegalArgumentException("the " + what + " does not parse: " + e.getMessage());
      }
    }
  }

  /**
   * The template rendered with {@code bindings}.
   *
   * @throws ChatTemplate.TemplateException when the template calls {@code raise_exception} (with its message) or
   *     fails to render
   */
  String render(Map<String, ?> bindings) {
    // A context of the render's own, copied from the engine's: a child of the shared one would write the
    // expressions it resolves into that one's (unsynchronized) sets, from every thread at once.
    JinjavaInterpreter interpreter = jinjava.newInterpreter();
    interpreter.getContext().putAll(bindings);
    String output;
    try (AutoCloseableImpl<JinjavaInterpreter> current = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
      output = current.value().render(root);
    } catch (RuntimeException e) {
      throw new ChatTemplate.TemplateException("the " + what + " failed: " + e.getMessage(), e);
    }
    Optional<TemplateError> failure = firstFailure(interpreter.getErrorsCopy());
    if (failure.isPresent()) {
      Throwable raised = raised(failure.get().getException());
      throw raised != null
          ? new ChatTemplate.TemplateException(raised.getMessage(), true)
          : new ChatTemplate.TemplateException("the " + what + " failed: " + failure.get().getMessage(), false);
    }
    return output;
  }

  /**
   * Jinjava records a failure inside an expression and carries on rendering, where jinja2 stops. The first
   * failure is the one jinja2 would have stopped at; a warning (an undefined name, which jinja2 renders empty too)
   * is not one.
   */
  private static Optional<TemplateError> firstFailure(List<TemplateError> errors) {
    for (TemplateError e : errors) {
      if (e.getSeverity() == TemplateError.ErrorType.FATAL || raised(e.getException()) != null) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }

  private static Throwable raised(Throwable t) {
    for (; t != null; t = t.getCause()) {
      if (t instanceof PythonSemantics.Raised) {
        return t;
      }
    }
    return null;
  }
}
