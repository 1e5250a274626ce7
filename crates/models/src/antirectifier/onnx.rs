//! The Antirectifier's ONNX nodes: how a layer of one's own is exported.
//!
//! Implement [`ToOnnx`] (the nodes computing the layer's forward pass from `x`) and
//! register the type with `Exporter::new().with_layer::<Antirectifier>()`; the exporter
//! then writes it wherever it meets it in a model.

use super::Antirectifier;
use export::onnx::{Attr, Graph, LayerIo, ToOnnx, Value, ours};

impl ToOnnx for Antirectifier {
    /// `c = x - mean(x, 1)`, `u = c / sqrt(max(sum(c^2, 1), 1e-12))`,
    /// `concat(relu(u), relu(-u), 1)`, as the forward pass.
    fn to_onnx(&self, g: &mut Graph, x: Value, io: &LayerIo) -> nn::Result<Value> {
        let x = ours(g, x);
        let n = io.name;
        let keep = Attr::Int(1);
        let mean = g.node(
            "ReduceMean",
            &format!("{n}.mean"),
            &[&x.name],
            &[("axes", Attr::Ints(vec![1])), ("keepdims", keep.clone())],
        );
        let c = g.node("Sub", &format!("{n}.centred"), &[&x.name, &mean], &[]);
        let sq = g.node("Mul", &format!("{n}.square"), &[&c, &c], &[]);
        let axes = g.ints(&format!("{n}.axes"), &[1]);
        let sum = g.node(
            "ReduceSum",
            &format!("{n}.sum"),
            &[&sq, &axes],
            &[("keepdims", keep)],
        );
        let floor = g.weight(&format!("{n}.epsilon"), &[], &[1e-12]);
        let sum = g.node("Max", &format!("{n}.floor"), &[&sum, &floor], &[]);
        let norm = g.node("Sqrt", &format!("{n}.norm"), &[&sum], &[]);
        let u = g.node("Div", &format!("{n}.unit"), &[&c, &norm], &[]);
        let pos = g.node("Relu", &format!("{n}.positive"), &[&u], &[]);
        let neg = g.node("Neg", &format!("{n}.negated"), &[&u], &[]);
        let neg = g.node("Relu", &format!("{n}.negative"), &[&neg], &[]);
        let y = g.node("Concat", n, &[&pos, &neg], &[("axis", Attr::Int(1))]);
        Ok(Value::new(y, 2))
    }
}
