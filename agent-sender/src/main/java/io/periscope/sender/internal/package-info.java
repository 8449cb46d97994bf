/** Implementation details of agent-sender; not an API, may change without notice. */
package io.periscope.sender.internal;
