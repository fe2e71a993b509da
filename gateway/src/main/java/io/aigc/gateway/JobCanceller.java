package io.aigc.gateway;

import io.aigc.schemas.Cancellation;
import io.aigc.schemas.Topic;
import io.vertx.core.Future;

/**
 * Asks the workers to stop a job: a {@link Cancellation} on the cancellations topic, which every worker reads. Used
 * by {@code DELETE /v1/jobs/{id}} and by a stream whose client left or stalled.
 */
record JobCanceller(RecordPublisher publisher, Topic<Cancellation> cancellations) {
  /** Completes once the cancellation is on Kafka. {@code caller} is the API key name, for the audit trail. */
  Future<Void> cancel(String jobId, String caller) {
    return publisher.publish(cancellations, jobId, new Cancellation(jobId, System.currentTimeMillis(), caller));
  }
}
