package io.aigc.runtime.streams.testing;

import io.aigc.schemas.Topic;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * A topology under Kafka Streams' {@link TopologyTestDriver}, its wall clock starting at a fixed instant, with the
 * pipeline's typed topics: what both Streams services' topology tests start from. Inputs take bytes, so a test can
 * send what no serde would write.
 */
public final class TopologyHarness implements AutoCloseable {
  private final TopologyTestDriver driver;

  private TopologyHarness(TopologyTestDriver driver) {
    this.driver = driver;
  }

  /** Runs {@code topology} with its state in {@code stateDir}, at {@code now}. */
  public static TopologyHarness start(Topology topology, Path stateDir, Instant now) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    return new TopologyHarness(new TopologyTestDriver(topology, props, now));
  }

  /** Raw bytes into {@code topic}, keyed by request id. */
  public TestInputTopic<String, byte[]> input(Topic<?> topic) {
    return driver.createInputTopic(topic.name(), new StringSerializer(), new ByteArraySerializer());
  }

  /** {@code value} into {@code topic}, encoded with the topic's serde. */
  public <V extends SpecificRecord> void send(Topic<V> topic, String key, V value) {
    input(topic).pipeInput(key, topic.valueSerde().encode(value));
  }

  /** What the topology wrote to {@code topic}, decoded. */
  public <V extends SpecificRecord> TestOutputTopic<String, V> output(Topic<V> topic) {
    return driver.createOutputTopic(topic.name(), new StringDeserializer(), topic.valueSerde());
  }

  public TopologyTestDriver driver() {
    return driver;
  }

  @Override
  public void close() {
    driver.close();
  }
}
