package io.aigc.text;

import java.util.Objects;

/** One message of a chat: its role ({@code system}, {@code user}, {@code assistant}, ...) and its text. */
public record ChatMessage(String role, String content) {
  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }
}
