/**
 * What each recorded kubectl request body (kubectl-1.32.ts, kubectl-1.33.ts) must decode to:
 * the JSON the same object would have had as a JSON body (Go's omitempty rules, RFC 3339
 * times, base64 bytes, IntOrString as number or string). Reviewed by hand against the
 * command line that produced each body.
 */

export const EXPECTED: Record<string, unknown> = {
  'namespace': {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'ns1' },
    spec: {},
    status: {},
  },
  'configmap': {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm1', namespace: 'ns1' },
    data: { a: 'b', empty: '' },
  },
  'configmap-binary': {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm2' },
    data: { text: 'hello' },
    binaryData: { bin: 'AP8Q' },
  },
  'secret-generic': {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's1' },
    data: { pw: 'czNjcjN0', user: 'YWRtaW4=' },
  },
  'secret-docker-registry': {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'reg' },
    data: {
      '.dockerconfigjson': 'eyJhdXRocyI6eyJyLmV4YW1wbGUiOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19',
    },
    type: 'kubernetes.io/dockerconfigjson',
  },
  'service-clusterip': {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'svc1', labels: { app: 'svc1' } },
    spec: {
      ports: [
        { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: '443', protocol: 'TCP', port: 443, targetPort: 443 },
      ],
      selector: { app: 'svc1' },
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  },
  'service-nodeport': {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'svc2', labels: { app: 'svc2' } },
    spec: {
      ports: [{ name: '80-http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }],
      selector: { app: 'svc2' },
      type: 'NodePort',
    },
    status: { loadBalancer: {} },
  },
  'service-externalname': {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ext', labels: { app: 'ext' } },
    spec: { selector: { app: 'ext' }, type: 'ExternalName', externalName: 'example.com' },
    status: { loadBalancer: {} },
  },
  'serviceaccount': { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa1' } },
  'deployment': {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: {} },
          ],
        },
      },
      strategy: {},
    },
    status: {},
  },
  'deployment-zero': {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'zero', labels: { app: 'zero' } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'zero' } },
      template: {
        metadata: { labels: { app: 'zero' } },
        spec: {
          containers: [
            { name: 'busybox', image: 'busybox', command: ['sleep', '3600'], resources: {} },
          ],
        },
      },
      strategy: {},
    },
    status: {},
  },
  'job': {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j1' },
    spec: {
      template: {
        metadata: {},
        spec: {
          containers: [{ name: 'j1', image: 'busybox', command: ['echo', 'hi'], resources: {} }],
          restartPolicy: 'Never',
        },
      },
    },
    status: {},
  },
  'cronjob': {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cj1' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: {
        metadata: { name: 'cj1' },
        spec: {
          template: {
            metadata: {},
            spec: {
              containers: [{ name: 'cj1', image: 'busybox', command: ['date'], resources: {} }],
              restartPolicy: 'OnFailure',
            },
          },
        },
      },
    },
    status: {},
  },
  'job-from-cronjob': {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'j2',
      labels: { team: 'a' },
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: 'rich', uid: 'cj-uid', controller: true },
      ],
    },
    spec: {
      parallelism: 1,
      completions: 1,
      activeDeadlineSeconds: 600,
      backoffLimit: 0,
      template: {
        metadata: { labels: { app: 'rich' }, annotations: { 'a.example/x': '' } },
        spec: {
          volumes: [
            {
              name: 'cfg',
              configMap: {
                name: 'cm1',
                items: [{ key: 'a', path: 'a.txt', mode: 420 }],
                defaultMode: 272,
              },
            },
            { name: 'sec', secret: { secretName: 's1', optional: false } },
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
            {
              name: 'proj',
              projected: {
                sources: [
                  {
                    serviceAccountToken: { audience: 'api', expirationSeconds: 3600, path: 'token' },
                  },
                  {
                    downwardAPI: {
                      items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }],
                    },
                  },
                ],
              },
            },
          ],
          initContainers: [
            { name: 'init', image: 'busybox', command: ['sh', '-c', 'true'], resources: {} },
          ],
          containers: [
            {
              name: 'main',
              image: 'busybox:1.36',
              command: ['sh', '-c'],
              args: ['date; sleep 1'],
              workingDir: '/tmp',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cm1' } }],
              env: [
                { name: 'A', value: 'x' },
                { name: 'EMPTY' },
                {
                  name: 'NODE',
                  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } },
                },
                {
                  name: 'KEY',
                  valueFrom: { secretKeyRef: { name: 's1', key: 'pw', optional: true } },
                },
                {
                  name: 'MEM',
                  valueFrom: {
                    resourceFieldRef: {
                      containerName: 'main',
                      resource: 'limits.memory',
                      divisor: '1Mi',
                    },
                  },
                },
              ],
              resources: {
                limits: { cpu: '1', memory: '128Mi' },
                requests: { cpu: '100m', memory: '64Mi' },
              },
              volumeMounts: [
                { name: 'cfg', readOnly: true, mountPath: '/etc/cfg' },
                { name: 'tmp', mountPath: '/scratch', subPath: 'x' },
              ],
              livenessProbe: {
                httpGet: {
                  path: '/healthz',
                  port: 'http',
                  httpHeaders: [{ name: 'X', value: 'y' }],
                },
                initialDelaySeconds: 5,
                periodSeconds: 10,
              },
              readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 1 },
              startupProbe: { exec: { command: ['true'] } },
              lifecycle: { preStop: { sleep: { seconds: 2 } } },
              terminationMessagePolicy: 'FallbackToLogsOnError',
              imagePullPolicy: 'IfNotPresent',
              securityContext: {
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
              },
            },
          ],
          restartPolicy: 'OnFailure',
          terminationGracePeriodSeconds: 0,
          nodeSelector: { disk: 'ssd' },
          automountServiceAccountToken: false,
          securityContext: {
            runAsUser: 1000,
            runAsNonRoot: true,
            fsGroup: 2000,
            sysctls: [{ name: 'net.ipv4.ip_forward', value: '1' }],
          },
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] },
                ],
              },
            },
          },
          tolerations: [
            { key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 },
          ],
        },
      },
      ttlSecondsAfterFinished: 0,
    },
    status: {},
  },
  'role': {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'r1' },
    rules: [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['x'] },
      {
        verbs: ['get', 'list'],
        apiGroups: ['apps'],
        resources: ['deployments'],
        resourceNames: ['x'],
      },
    ],
  },
  'clusterrole': {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'cr1' },
    rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/logs/*'] }],
  },
  'clusterrole-aggregation': {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'agg' },
    aggregationRule: {
      clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate': 'true' } }],
    },
  },
  'rolebinding': {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'rb1' },
    subjects: [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' },
      { kind: 'ServiceAccount', name: 'sa1', namespace: 'default' },
    ],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r1' },
  },
  'clusterrolebinding': {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'crb1' },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cr1' },
  },
  'hpa': {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' },
      minReplicas: 2,
      maxReplicas: 5,
      targetCPUUtilizationPercentage: 80,
    },
    status: { currentReplicas: 0, desiredReplicas: 0 },
  },
  'pdb-min-available': {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'pdb1' },
    spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
    status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  },
  'pdb-min-available-zero': {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'pdb0' },
    spec: { minAvailable: 0, selector: { matchLabels: { app: 'web' } } },
    status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  },
  'pdb-max-unavailable': {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'pdb2' },
    spec: {
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] },
      maxUnavailable: '50%',
    },
    status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  },
  'priorityclass': {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'high' },
    value: 1000,
    description: 'important',
    preemptionPolicy: 'Never',
  },
  'quota': {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'q1' },
    spec: { hard: { cpu: '1', memory: '1G', pods: '2' }, scopes: ['BestEffort'] },
    status: {},
  },
  'ssar-resource': {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: {
      resourceAttributes: {
        namespace: 'kube-system',
        verb: 'list',
        group: 'apps',
        resource: 'deployments',
      },
    },
    status: { allowed: false },
  },
  'ssar-subresource': {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: { resourceAttributes: { verb: 'get', resource: 'pods', subresource: 'log' } },
    status: { allowed: false },
  },
  'ssar-nonresource': {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } },
    status: { allowed: false },
  },
  'ssrr': {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    metadata: {},
    spec: { namespace: 'ns1' },
    status: { incomplete: false },
  },
  'selfsubjectreview': {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
    metadata: {},
    status: { userInfo: {} },
  },
  'tokenrequest': {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: {},
    spec: {
      audiences: ['https://example.com'],
      expirationSeconds: 600,
      boundObjectRef: {
        kind: 'Pod',
        apiVersion: 'v1',
        name: 'p1',
        uid: '0b6f1f6e-0000-4000-8000-000000000001',
      },
    },
    status: { token: '' },
  },
  'pod-debug-node': {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'node-debugger-n1-zn2hx' },
    spec: {
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
      containers: [
        {
          name: 'debugger',
          image: 'busybox',
          resources: {},
          volumeMounts: [{ name: 'host-root', mountPath: '/host' }],
          terminationMessagePolicy: 'File',
        },
      ],
      restartPolicy: 'Never',
      nodeName: 'n1',
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      tolerations: [{ operator: 'Exists' }],
    },
    status: {},
  },
  'deleteoptions-drain': { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
  'deleteoptions-drain-default': { apiVersion: 'v1', kind: 'DeleteOptions' },
};

/** kubectl 1.33: `autoscale` sends autoscaling/v2; `debug node` picks another random pod name. */
export const EXPECTED_1_33: Record<string, unknown> = {
  ...EXPECTED,
  'hpa': {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
    },
    status: { desiredReplicas: 0 },
  },
  'pod-debug-node': {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'node-debugger-n1-h5ngm' },
    spec: {
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
      containers: [
        {
          name: 'debugger',
          image: 'busybox',
          resources: {},
          volumeMounts: [{ name: 'host-root', mountPath: '/host' }],
          terminationMessagePolicy: 'File',
        },
      ],
      restartPolicy: 'Never',
      nodeName: 'n1',
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      tolerations: [{ operator: 'Exists' }],
    },
    status: {},
  },
};
