package io.aigc.text;

import com.hubspot.jinjava.objects.collections.PyMap;
import io.aigc.model.ModelDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template: the Jinja program in its tokenizer_config.json that turns a list of messages into the
 * prompt text the model was trained on. Rendered as Hugging Face's {@code apply_chat_template} renders it, so that
 * the model sees exactly the text it would see under transformers, byte for byte.
 *
 * <p>transformers renders with jinja2 ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)}
 * with the loopcontrols extension, a {@code raise_exception} and a {@code strftime_now} global and a {@code tojson}
 * filter of its own) and passes {@code messages}, {@code add_generation_prompt} and the special tokens. Here the
 * engine is Jinjava, set up to behave the same way (JinjaEngine says which difference each setting closes). The
 * test corpus (text/src/test/resources/chat-templates) holds real templates and jinja2's output for each.
 *
 * <p>Immutable and thread-safe: the template is parsed once, and each render has an interpreter of its own.
 */
public final class ChatTemplate {
  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final CompiledTemplate template;

  private ChatTemplate(String source, String bosToken, String eosToken, Clock clock) {
    this.source = source;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.template = new CompiledTemplate(source, "chat template", clock);
  }

  /**
   * A template and the special tokens it is given as {@code bos_token} and {@code eos_token}; a null token is left
   * undefined, as transformers leaves a token the tokenizer does not have.
   *
   * @throws IllegalArgumentException when the template does not parse
   */
  public static ChatTemplate of(String templateSource, String bosToken, String eosToken) {
    return of(templateSource, bosToken, eosToken, Clock.systemDefaultZone());
  }

  /** As {@link #of(String, String, String)}, with the clock that {@code strftime_now} reads. */
  static ChatTemplate of(String templateSource, String bosToken, String eosToken, Clock clock) {
    if (templateSource == null || templateSource.isEmpty()) {
      throw new IllegalArgumentException("empty chat template");
    }
    return new ChatTemplate(templateSource, bosToken, eosToken, clock);
  }

  /** The model's own chat template (tokenizer_config.json's chat_template), or empty when it has none. */
  public static Optional<ChatTemplate> forModel(ModelDirectory model) {
    return model.chatTemplate().map(t -> of(t, model.bosToken().orElse(null), model.eosToken().orElse(null)));
  }

  /** A template the operator gives in a file, with the model's special tokens. */
  public static ChatTemplate fromFile(Path templateFile, ModelDirectory model) {
    String source;
    try {
      source = Files.readString(templateFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the chat template " + templateFile, e);
    }
    try {
      return of(source, model.bosToken().orElse(null), model.eosToken().orElse(null));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(templateFile + ": " + e.getMessage(), e);
    }
  }

  /**
   * The prompt text of {@code messages}, ending with the opening of an assistant turn when
   * {@code addGenerationPrompt}.
   *
   * @throws TemplateException when the template refuses the conversation ({@code raise_exception}, with its
   *     message: a client error) or fails to render
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> list = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> message = new LinkedHashMap<>();
      message.put("role", m.role());
      message.put("content", m.content());
      // A PyMap answers message.get('content', '') and message.items() as a Python dict does.
      list.add(new PyMap(message));
    }
    Map<String, Object> bindings = new HashMap<>();
    bindings.put("messages", list);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    if (bosToken != null) {
      bindings.put("bos_token", bosToken);
    }
    if (eosToken != null) {
      bindings.put("eos_token", eosToken);
    }
    return template.render(bindings);
  }

  /** The template's source text, as given. */
  public String source() {
    return source;
  }

  /** The template refused the conversation, or could not render it. */
  public static final class TemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean raisedByTemplate;

    TemplateException(String message, boolean raisedByTemplate) {
      super(message);
      this.raisedByTemplate = raisedByTemplate;
    }

    TemplateException(String message, Throwable cause) {
      super(message, cause);
      this.raisedByTemplate = false;
    }

    /**
     * True when the template itself called {@code raise_exception}: the conversation is one the model does not
     * take (a client error, whose message is the template's); false when the template could not be rendered.
     */
    public boolean raisedByTemplate() {
      return raisedByTemplate;
    }
  }
}
