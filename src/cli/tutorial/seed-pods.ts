/**
 * The tutorial's two pods, byte for byte as the tutorial gives them: the files in
 * examples/tutorial (test/cli/up/seed-pods.test.ts compares them, and those with the
 * tutorial's seed when it is there), kept as strings so the bundled CLI needs no data files.
 */

export const SEED_PODS: Readonly<Record<"shared-volume-pod.yaml" | "network-test-pod.yaml", string>> = Object.freeze({
  "shared-volume-pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shared-volume-pod\n# 两个容器 a容器往文件中写了一个echo Hello from A字符串\n# 两个容器都使用了 shared-storage 卷\nspec:\n  containers:\n  - name: container-a\n    image: alpine\n    command: ['sh', '-c', 'echo Hello from A > /mnt/vol/message; sleep 3600']\n    volumeMounts:\n    - name: shared-storage\n      mountPath: /mnt/vol\n  - name: container-b\n    image: alpine\n    command: ['sh', '-c', 'sleep 3600']\n    volumeMounts:\n    - name: shared-storage\n      mountPath: /mnt/vol\n  volumes:\n  - name: shared-storage\n    emptyDir: {}\n",
  "network-test-pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: network-test-pod\nspec:\n# 两个容器 a 安装netcat工具，并且启动一个tcp服务器，监听8080端口并回显示“hello from a”\n# b 也需要安装netcat\n  containers:\n  - name: container-a\n    image: alpine\n    command: ['sh', '-c', 'apk add --no-cache nc; nc -lk -p 8080 -e echo \"Hello from A\"']\n  - name: container-b\n    image: alpine\n    command: ['sh', '-c', 'apk add --no-cache nc; sleep 3600']\n",
});
