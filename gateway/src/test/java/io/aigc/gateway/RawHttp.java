package io.aigc.gateway;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/1.1 connection over a plain socket, for the requests no well-behaved client sends: any bytes go out as
 * they are. Every read has a timeout, so a server that does not answer fails the test instead of hanging it.
 *
 * <p>A request is written on another thread while the answer is read: a server may answer (and close) before it
 * has read a large body, and a client that insisted on writing all of it first would never see the answer.
 */
final class RawHttp implements AutoCloseable {
  private static final ExecutorService WRITERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "raw-http-writer");
    t.setDaemon(true);
    return t;
  });
  private static final int MAX_LINE = 64 * 1024;

  /** A response; header names in lower case. */
  record Response(int status, Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null ? null : values.get(0);
    }

    boolean closesConnection() {
      return "close".equalsIgnoreCase(header("connection"));
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final Duration timeout;

  RawHttp(int port, Duration timeout) throws IOException {
    this.socket = new Socket("127.0.0.1", port);
    this.socket.setSoTimeout((int) timeout.toMillis());
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
    this.timeout = timeout;
  }

  /** Sends {@code request} and reads one final response (skipping interim 1xx ones). */
  Response exchange(byte[] request, boolean head) throws Exception {
    Future<?> written = WRITERS.submit(() -> {
      try {
        out.write(request);
        out.flush();
      } catch (IOException e) {
        // The server answered and closed before reading all of it: the answer is what counts.
      }
    });
    Response response;
    do {
      response = readResponse(head);
    } while (response.status() < 200);
    // The next request starts only when this one is out (or refused), so two never interleave.
    written.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    return response;
  }

  /** Sends bytes without waiting for an answer. */
  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /**
   * Whether the server closes the connection within the timeout, reading (and dropping) anything it still sends.
   * A reset counts as closed.
   */
  boolean closedByServer() throws IOException {
    try {
      byte[] buffer = new byte[8192];
      while (in.read(buffer) >= 0) {
        // draining
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private Response readResponse(boolean head) throws IOException {
    String statusLine = readLine();
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      throw new IOException("not an HTTP response: " + statusLine);
    }
    int status = Integer.parseInt(parts[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(line.substring(colon + 1).trim());
    }
    byte[] body;
    String length = headers.containsKey("content-length") ? headers.get("content-length").get(0) : null;
    String encoding = headers.containsKey("transfer-encoding") ? headers.get("transfer-encoding").get(0) : null;
    if (head || status == 204 || status == 304 || status < 200) {
      body = new byte[0];
    } else if (encoding != null && encoding.equalsIgnoreCase("chunked")) {
      body = readChunked();
    } else if (length != null) {
      body = readExactly(Integer.parseInt(length));
    } else {
      body = in.readAllBytes();
    }
    return new Response(status, headers, body);
  }

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      int size = Integer.parseInt(readLine().split(";")[0].trim(), 16);
      if (size == 0) {
        while (!readLine().isEmpty()) {
          // trailers
        }
        return body.toByteArray();
      }
      body.write(readExactly(size));
      readLine();
    }
  }

  private byte[] readExactly(int n) throws IOException {
    byte[] bytes = in.readNBytes(n);
    if (bytes.length < n) {
      throw new EOFException("body cut after " + bytes.length + " of " + n + " bytes");
    }
    return bytes;
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed before the response was complete");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
      }
      if (line.size() >= MAX_LINE) {
        throw new IOException("response line longer than " + MAX_LINE + " bytes");
      }
      line.write(b);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
