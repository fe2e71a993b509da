package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** The {@link ApiError} a request body is refused with, checked field by field. */
final class Refusals {
  private Refusals() {}

  static void assertRefused(ThrowingCallable read, int status, String param, String code, String message) {
    assertThatThrownBy(read)
        .isInstanceOfSatisfying(ApiError.class, e -> {
          assertThat(e.status()).isEqualTo(status);
          assertThat(e.type()).isEqualTo("invalid_request_error");
          assertThat(e.param()).isEqualTo(param);
          assertThat(e.code()).isEqualTo(code);
          assertThat(e.getMessage()).contains(message);
        });
  }
}
