package io.periscope.core.metadata.kubernetes;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Lookups by container id and IP, the grace period of deleted pods, and the bound. */
class PodDirectoryTest {
    private static final long GRACE_NANOS = 1_000;
    private static final int LOOKUPS = 100_000;

    private static PodMetadata pod(String uid, String ip, String containerId) {
        return new PodMetadata(uid, "ns", "pod-" + uid, "node-1", ip, false, null, Map.of(containerId, "main"),
                Map.of("k8s.pod.uid", uid));
    }

    @Test
    void shouldResolveContainersOfListedPodsWithTheContainerName() throws IOException {
        PodDirectory directory = new PodDirectory(16, GRACE_NANOS);
        directory.replaceAll(PodJsonTest.podList().pods(), 1);
        ContainerMetadata shipper = directory.byContainerId(PodJsonTest.SHIPPER_ID);
        assertThat(shipper.containerName()).isEqualTo("log-shipper");
        assertThat(shipper.resourceAttributes()).containsEntry("k8s.container.name", "log-shipper")
                .containsEntry("k8s.pod.name", "frontend-7d9c8b6f5-x2x9q");
        assertThat(shipper.serviceName()).isEqualTo("web");
        assertThat(directory.byIp("10.244.1.18").name()).isEqualTo("redis-0");
        assertThat(directory.byIp("192.168.1.5")).as("host-network pods share the node's IP").isNull();
        assertThat(directory.byContainerId("0".repeat(64))).isNull();
    }

    @Test
    void shouldFindPodsByIpv4AddressAsAnInt() throws IOException {
        PodDirectory directory = new PodDirectory(16, GRACE_NANOS);
        directory.replaceAll(PodJsonTest.podList().pods(), 1);
        assertThat(directory.byIpv4(0x0AF40112).name()).as("10.244.1.18").isEqualTo("redis-0");
        assertThat(directory.byIpv4(0xC0A80105)).as("192.168.1.5, a host-network pod's").isNull();
        assertThat(PodDirectory.ipv4("255.0.0.1")).isEqualTo(0xFF000001L);
        assertThat(PodDirectory.ipv4("fd00::1")).isEqualTo(-1);
        assertThat(PodDirectory.ipv4("10.0.0.256")).isEqualTo(-1);
        directory.markDeleted("7c6d5e4f-2222-4333-8444-555566667777", 10);
        directory.evictExpired(10 + GRACE_NANOS);
        assertThat(directory.byIpv4(0x0AF40112)).isNull();
    }

    @Test
    void shouldKeepADeletedPodUntilItsGracePeriodEnds() {
        PodDirectory directory = new PodDirectory(16, GRACE_NANOS);
        directory.upsert(pod("u1", "10.0.0.1", "1".repeat(64)));
        long before = directory.version();
        directory.markDeleted("u1", 100);
        assertThat(directory.evictExpired(100 + GRACE_NANOS - 1)).isZero();
        assertThat(directory.byContainerId("1".repeat(64))).isNotNull();
        assertThat(directory.evictExpired(100 + GRACE_NANOS)).isEqualTo(1);
        assertThat(directory.byContainerId("1".repeat(64))).isNull();
        assertThat(directory.byIp("10.0.0.1")).isNull();
        assertThat(directory.version()).isGreaterThan(before);
    }

    @Test
    void shouldGiveAReusedIpToTheNewPodEvenAfterTheOldOneIsEvicted() {
        PodDirectory directory = new PodDirectory(16, GRACE_NANOS);
        directory.upsert(pod("old", "10.0.0.9", "1".repeat(64)));
        directory.markDeleted("old", 10);
        directory.upsert(pod("new", "10.0.0.9", "2".repeat(64)));
        directory.evictExpired(10 + GRACE_NANOS);
        assertThat(directory.byIp("10.0.0.9").uid()).isEqualTo("new");
    }

    @Test
    void shouldMarkPodsMissingFromARelistAsDeleted() {
        PodDirectory directory = new PodDirectory(16, GRACE_NANOS);
        directory.upsert(pod("gone", "", "1".repeat(64)));
        directory.replaceAll(List.of(pod("kept", "", "2".repeat(64))), 50);
        assertThat(directory.size()).isEqualTo(2);
        directory.evictExpired(50 + GRACE_NANOS);
        assertThat(directory.byContainerId("1".repeat(64))).isNull();
        assertThat(directory.byContainerId("2".repeat(64))).isNotNull();
    }

    @Test
    void shouldDropAndCountPodsBeyondTheBoundPreferringToEvictDeletedOnes() {
        PodDirectory directory = new PodDirectory(2, GRACE_NANOS);
        directory.upsert(pod("a", "", "1".repeat(64)));
        directory.upsert(pod("b", "", "2".repeat(64)));
        directory.upsert(pod("c", "", "3".repeat(64)));
        assertThat(directory.dropped()).isEqualTo(1);
        assertThat(directory.byContainerId("3".repeat(64))).isNull();
        directory.markDeleted("a", 5);
        directory.upsert(pod("c", "", "3".repeat(64)));
        assertThat(directory.byContainerId("3".repeat(64))).isNotNull();
        assertThat(directory.byContainerId("1".repeat(64))).isNull();
        assertThat(directory.size()).isEqualTo(2);
    }

    @Test
    void shouldNotChangeVersionForAnUpdateThatChangesNothingItKeeps() {
        PodDirectory directory = new PodDirectory(16, GRACE_NANOS);
        directory.upsert(pod("a", "10.0.0.1", "1".repeat(64)));
        long version = directory.version();
        directory.upsert(pod("a", "10.0.0.1", "1".repeat(64)));
        assertThat(directory.version()).isEqualTo(version);
    }

    @Test
    void shouldAllocateNothingPerLookup() throws IOException {
        PodDirectory directory = new PodDirectory(16, GRACE_NANOS);
        directory.replaceAll(PodJsonTest.podList().pods(), 1);
        // Keys as a sink holds them: the ContainerId's own string, its hash already cached.
        String hit = new String(PodJsonTest.NGINX_ID.toCharArray());
        String miss = "9".repeat(64);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        int found = 0;
        for (int i = 0; i < LOOKUPS; i++) {
            found += directory.byContainerId(i % 2 == 0 ? hit : miss) != null ? 1 : 0;
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < LOOKUPS; i++) {
            found += directory.byContainerId(i % 2 == 0 ? hit : miss) != null ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertThat(found).isEqualTo(LOOKUPS);
        // A few hundred bytes of slack for the measurement itself; one byte per lookup would be 100 KB.
        assertThat(allocated).as("bytes allocated by " + LOOKUPS + " lookups").isLessThan(1024);
    }
}
