//! A small builder for an ONNX graph: inputs, initializers (the weights), nodes and
//! outputs, encoded with the generated protobuf messages.

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_proto::DataType, tensor_shape_proto, type_proto,
};
use prost::Message;
use std::collections::HashSet;
use std::path::Path;

/// The operator set the exporter writes (ONNX 1.12 and later read it).
pub const OPSET: i64 = 17;
/// The IR version that goes with [`OPSET`].
pub const IR_VERSION: i64 = 8;
/// The name of the symbolic batch dimension of every input and output.
pub const BATCH: &str = "batch";

/// How a 4-D value's axes are ordered in the ONNX graph.
///
/// The project's images are NHWC; ONNX's `Conv`, `MaxPool`, `BatchNormalization` on
/// images and `Resize` work on NCHW. The exporter keeps the model's inputs and outputs in
/// the project's order and transposes where the layout has to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The project's order (NHWC for images; any other rank as it is).
    Ours,
    /// Channels first (NCHW), what ONNX's image ops take.
    ChannelsFirst,
}

/// A value of the graph: its name, its rank and, for images, its layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub name: String,
    pub rank: usize,
    pub layout: Layout,
}

impl Value {
    /// A value in the project's layout.
    pub fn new(name: impl Into<String>, rank: usize) -> Self {
        Value {
            name: name.into(),
            rank,
            layout: Layout::Ours,
        }
    }
}

/// An input or output dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// The symbolic batch dimension ([`BATCH`]).
    Batch,
    Fixed(usize),
}

/// Element types the exporter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    F32,
    I64,
}

impl Elem {
    fn code(self) -> i32 {
        match self {
            Elem::F32 => DataType::Float as i32,
            Elem::I64 => DataType::Int64 as i32,
        }
    }
}

/// A node attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    Str(String),
}

/// An ONNX graph under construction.
#[derive(Debug, Default)]
pub struct Graph {
    name: String,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    used: HashSet<String>,
    metadata: Vec<(String, String)>,
}

fn value_info(name: &str, elem: Elem, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| tensor_shape_proto::Dimension {
            value: Some(match d {
                Dim::Batch => tensor_shape_proto::dimension::Value::DimParam(BATCH.into()),
                Dim::Fixed(n) => tensor_shape_proto::dimension::Value::DimValue(*n as i64),
            }),
            denotation: None,
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            denotation: None,
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem.code()),
                shape: Some(TensorShapeProto { dim }),
            })),
        }),
        ..Default::default()
    }
}

impl Graph {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> Self {
        Graph {
            name: name.into(),
            ..Default::default()
        }
    }

    /// A name not used yet, from `hint` (`hint`, `hint_1`, ...).
    pub fn fresh(&mut self, hint: &str) -> String {
        let mut name = hint.to_string();
        let mut k = 0;
        while self.used.contains(&name) {
            k += 1;
            name = format!("{hint}_{k}");
        }
        self.used.insert(name.clone());
        name
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: Elem, dims: &[Dim]) -> Value {
        let name = self.fresh(name);
        self.inputs.push(value_info(&name, elem, dims));
        Value::new(name, dims.len())
    }

    /// Adds an f32 initializer (a weight) and returns its name. `dims` must hold
    /// exactly `data.len()` values (a programming error otherwise: it panics).
    pub fn weight(&mut self, hint: &str, dims: &[usize], data: &[f32]) -> String {
        assert_eq!(
            dims.iter().product::<usize>(),
            data.len(),
            "Graph::weight {hint}: dims {dims:?} do not hold {} values",
            data.len()
        );
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(Elem::F32.code()),
            raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
            ..Default::default()
        });
        name
    }

    /// Adds a 1-D i64 initializer (a shape, axes, ...) and returns its name.
    pub fn ints(&mut self, hint: &str, data: &[i64]) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            dims: vec![data.len() as i64],
            data_type: Some(Elem::I64.code()),
            raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
            ..Default::default()
        });
        name
    }

    /// Adds a node with one output; returns the output's name. An empty input name is
    /// an omitted optional input.
    pub fn node(
        &mut self,
        op: &str,
        hint: &str,
        inputs: &[&str],
        attrs: &[(&str, Attr)],
    ) -> String {
        self.node_n(op, hint, inputs, 1, attrs).remove(0)
    }

    /// Adds a node with `outputs` outputs; returns their names.
    pub fn node_n(
        &mut self,
        op: &str,
        hint: &str,
        inputs: &[&str],
        outputs: usize,
        attrs: &[(&str, Attr)],
    ) -> Vec<String> {
        let name = self.fresh(hint);
        let outs: Vec<String> = (0..outputs)
            .map(|i| {
                if outputs == 1 {
                    name.clone()
                } else {
                    self.fresh(&format!("{name}.{i}"))
                }
            })
            .collect();
        let attribute = attrs
            .iter()
            .map(|(n, a)| {
                let mut p = AttributeProto {
                    name: Some((*n).into()),
                    ..Default::default()
                };
                match a {
                    Attr::Int(i) => {
                        p.i = Some(*i);
                        p.r#type = Some(AttributeType::Int as i32);
                    }
                    Attr::Ints(v) => {
                        p.ints = v.clone();
                        p.r#type = Some(AttributeType::Ints as i32);
                    }
                    Attr::Float(f) => {
                        p.f = Some(*f);
                        p.r#type = Some(AttributeType::Float as i32);
                    }
                    Attr::Str(s) => {
                        p.s = Some(s.as_bytes().to_vec());
                        p.r#type = Some(AttributeType::String as i32);
                    }
                }
                p
            })
            .collect();
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outs.clone(),
            name: Some(name),
            op_type: Some(op.into()),
            attribute,
            ..Default::default()
        });
        outs
    }

    /// Makes `value` a graph output called `name` (through an `Identity`, so the
    /// output's name is the one asked for).
    pub fn output(&mut self, value: &Value, name: &str, elem: Elem, dims: &[Dim]) {
        let out = self.fresh(name);
        self.nodes.push(NodeProto {
            input: vec![value.name.clone()],
            output: vec![out.clone()],
            name: Some(format!("{out}.identity")),
            op_type: Some("Identity".into()),
            ..Default::default()
        });
        self.outputs.push(value_info(&out, elem, dims));
    }

    /// A key/value pair stored in the model's `metadata_props`.
    pub fn metadata(&mut self, key: &str, value: &str) {
        self.metadata.push((key.into(), value.into()));
    }

    /// Number of nodes so far.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The operator types used, in order of first use.
    pub fn op_types(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for n in &self.nodes {
            let op = n.op_type.clone().unwrap_or_default();
            if !seen.contains(&op) {
                seen.push(op);
            }
        }
        seen
    }

    /// The whole model: this graph under opset [`OPSET`].
    pub fn model(&self) -> ModelProto {
        ModelProto {
            ir_version: Some(IR_VERSION),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(OPSET),
            }],
            producer_name: Some("export (nn)".into()),
            producer_version: Some(env!("CARGO_PKG_VERSION").into()),
            metadata_props: self
                .metadata
                .iter()
                .map(|(k, v)| StringStringEntryProto {
                    key: Some(k.clone()),
                    value: Some(v.clone()),
                })
                .collect(),
            graph: Some(GraphProto {
                name: Some(self.name.clone()),
                node: self.nodes.clone(),
                initializer: self.initializers.clone(),
                input: self.inputs.clone(),
                output: self.outputs.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The model's protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        self.model().encode_to_vec()
    }

    /// Writes the model to `path` atomically (a temporary file, then a rename), so a
    /// failed export never leaves a half-written file.
    pub fn save(&self, path: &Path) -> nn::Result<()> {
        nn::checkpoint::write_atomic(path, &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_never_repeat() {
        let mut g = Graph::new("t");
        let a = g.fresh("x");
        let b = g.fresh("x");
        let c = g.fresh("x_1");
        assert_eq!(a, "x");
        assert_eq!(b, "x_1");
        assert_ne!(c, b);
    }

    #[test]
    fn model_round_trips_through_protobuf() {
        let mut g = Graph::new("t");
        let x = g.input("x", Elem::F32, &[Dim::Batch, Dim::Fixed(3)]);
        let y = g.node("Relu", "relu", &[&x.name], &[]);
        g.output(
            &Value::new(y, 2),
            "y",
            Elem::F32,
            &[Dim::Batch, Dim::Fixed(3)],
        );
        let decoded = ModelProto::decode(g.encode().as_slice()).unwrap();
        let graph = decoded.graph.unwrap();
        assert_eq!(decoded.opset_import[0].version, Some(OPSET));
        assert_eq!(graph.node.len(), 2);
        assert_eq!(graph.node[0].op_type.as_deref(), Some("Relu"));
        assert_eq!(graph.output[0].name.as_deref(), Some("y"));
    }
}
