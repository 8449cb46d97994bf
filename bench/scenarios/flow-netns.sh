#!/usr/bin/env bash
# Shared by the flow-* scenarios: two namespaces psf-a (10.201.0.1) and psf-b (10.201.0.2) joined
# by veth pairs to the bridge psfbr0 in the root namespace (no address there); capture on psfa1.
# Source it; it defines flow_netns_up / flow_netns_down.

flow_netns_down() {
    ip netns del psf-a 2>/dev/null || true
    ip netns del psf-b 2>/dev/null || true
    ip link del psfa1 2>/dev/null || true
    ip link del psfb1 2>/dev/null || true
    ip link del psfbr0 2>/dev/null || true
}

flow_netns_up() {
    flow_netns_down
    ip link add psfbr0 type bridge
    ip link set psfbr0 up
    local side ns addr
    for side in a b; do
        ns=psf-$side
        addr=10.201.0.$([ $side = a ] && echo 1 || echo 2)
        ip netns add $ns
        ip link add psf${side}0 type veth peer name psf${side}1
        ip link set psf${side}0 netns $ns
        ip link set psf${side}1 master psfbr0
        ip link set psf${side}1 up
        ip -n $ns addr add $addr/24 dev psf${side}0
        ip -n $ns link set psf${side}0 up
        ip -n $ns link set lo up
    done
    local i
    for i in $(seq 100); do
        bridge link show dev psfa1 | grep -q 'state forwarding' && bridge link show dev psfb1 | grep -q 'state forwarding' && return 0
        sleep 0.05
    done
    echo "bridge ports never reached the forwarding state" >&2
    return 1
}

# CPU time (user + system) of a process in clock ticks.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}
