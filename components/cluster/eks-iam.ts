/**
 * IAM documents of the EKS cluster add-ons this package installs (pure). Written for what each controller does
 * here — the AWS Load Balancer Controller manages the gateway's NLB and its security groups; the Cluster
 * Autoscaler resizes this cluster's node groups — and scoped by the tags the controllers put on what they own
 * (`elbv2.k8s.aws/cluster`, `k8s.io/cluster-autoscaler/<cluster>`), not copied from the projects' reference
 * policies (which also cover ALB, WAF and Shield).
 */

/** The AWS Load Balancer Controller's policy (Services of type LoadBalancer → NLB; no Ingress/ALB features). */
export function loadBalancerControllerPolicy(): string {
  const owned = { Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ServiceLinkedRole", Effect: "Allow", Action: ["iam:CreateServiceLinkedRole"], Resource: "*", Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } } },
      {
        Sid: "Describe", Effect: "Allow", Resource: "*",
        Action: [
          "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways",
          "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
          "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeRules",
          "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
          "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeCapacityReservation",
          "acm:ListCertificates", "acm:DescribeCertificate",
        ],
      },
      { Sid: "CreateSecurityGroup", Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: "*" },
      { Sid: "TagNewSecurityGroup", Effect: "Allow", Action: ["ec2:CreateTags"], Resource: "arn:aws:ec2:*:*:security-group/*", Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" }, Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } } },
      { Sid: "OwnedSecurityGroups", Effect: "Allow", Action: ["ec2:CreateTags", "ec2:DeleteTags", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"], Resource: "*", Condition: owned },
      // The controller adds rules to the node security group for NLB health checks and traffic.
      { Sid: "NodeSecurityGroupRules", Effect: "Allow", Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], Resource: "*" },
      {
        Sid: "CreateOwned", Effect: "Allow", Resource: "*", Condition: { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } },
        Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
      },
      { Sid: "Listeners", Effect: "Allow", Resource: "*", Action: ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes"] },
      {
        Sid: "TagOwned", Effect: "Allow", Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: ["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*", "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*"],
      },
      {
        Sid: "ManageOwned", Effect: "Allow", Resource: "*", Condition: owned,
        Action: [
          "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
        ],
      },
      { Sid: "Targets", Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"], Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*" },
    ],
  });
}

/** The Cluster Autoscaler's policy: read everything it needs, resize only this cluster's tagged groups. */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Describe", Effect: "Allow", Resource: "*",
        Action: [
          "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup",
        ],
      },
      {
        Sid: "ResizeOwnGroups", Effect: "Allow", Resource: "*",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
      },
    ],
  });
}

/**
 * Auto Scaling group tags that let the Cluster Autoscaler scale a node group up from zero: without a running node
 * it learns the pool's labels, taints and GPUs only from these `node-template` tags.
 * Worked example: the 4×L4 GPU pool → label/serving.autopilot.dev/pool=gpu, taint/nvidia.com/gpu=present:NoSchedule,
 * resources/nvidia.com/gpu=4.
 */
export function scaleFromZeroTags(labels: Readonly<Record<string, string>>, taints: readonly { key: string; value: string; effect: string }[], gpus: number): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) tags[`k8s.io/cluster-autoscaler/node-template/label/${k}`] = v;
  for (const t of taints) tags[`k8s.io/cluster-autoscaler/node-template/taint/${t.key}`] = `${t.value}:${t.effect}`;
  if (gpus > 0) tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] = String(gpus);
  return tags;
}
