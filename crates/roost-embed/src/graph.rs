//! A load-time edit of the model graph so that ONNX Runtime keeps its int8 weights as int8.
//!
//! The model file stores every weight as int8 codes times a scale (`Cast` then `Mul`). ONNX
//! Runtime folds that into f32 constants when it loads the file: ~90 MB resident, and a short
//! query reads ~40 MB of them per inference, more than a core complex's L3 cache, so a query
//! is bound by memory bandwidth. Two edits, made on the protobuf bytes so the checked file
//! stays as shipped:
//!
//! - `MatMul(x, Mul(Cast(W), s))` with `W` int8 `[K, N]` and `s` one scale per column becomes
//!   `MatMulNBits(x, W + 128 as u8 in blocks of 128, s per block, zero point 128)` at accuracy
//!   level 4: the weights stay int8 and the activations are quantised to int8 per block of 128
//!   (int8 dot products). This moves the vectors slightly (cosine ~0.9995 to the file's own
//!   graph), so the edited graph is a vector space of its own with its own model id.
//! - `Gather(Mul(Cast(T), s), ids)` with `T` int8 `[rows, D]` and `s` one scale per row
//!   becomes `Mul(Cast(Gather(T, ids)), Gather(s, ids))`: the same numbers, made for the rows
//!   looked up instead of the whole word table (47 MB as f32).
//!
//! Only the fields these edits read are decoded; every other byte of the file is copied as it
//! is (protobuf fields a schema subset does not know would otherwise be lost).

use std::collections::{HashMap, HashSet};

use prost::Message;
use prost::encoding::{WireType, decode_key, decode_varint, encode_key, encode_varint};

/// ONNX `TensorProto.DataType` values used here.
const FLOAT: i32 = 1;
const UINT8: i32 = 2;
const INT8: i32 = 3;
/// ONNX `AttributeProto.AttributeType.INT`.
const ATTR_INT: i32 = 2;
/// `MatMulNBits` block length along K; 128 divides every weight's K in MiniLM (384, 1536).
const BLOCK: usize = 128;
/// Int8 activations: the level that makes `MatMulNBits` use integer dot products.
const ACCURACY_LEVEL: i64 = 4;
const MS_DOMAIN: &str = "com.microsoft";

// Field numbers of onnx.proto's messages.
const MODEL_GRAPH: u32 = 7;
const MODEL_OPSET_IMPORT: u32 = 8;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("the model file is not a valid ONNX protobuf: {0}")]
    Malformed(String),
    #[error("the model graph has none of the int8 weight patterns this build rewrites")]
    NothingToRewrite,
}

/// What [`rewrite`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewritten {
    pub matmuls: usize,
    pub gathers: usize,
}

#[derive(Clone, PartialEq, Message)]
struct Node {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<Attribute>,
    #[prost(string, tag = "7")]
    domain: String,
}

#[derive(Clone, PartialEq, Message)]
struct Attribute {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "3")]
    i: i64,
    #[prost(int32, tag = "20")]
    r#type: i32,
}

#[derive(Clone, PartialEq, Message)]
struct Tensor {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
    /// 1 = external data: the numbers are in another file, not here.
    #[prost(int32, tag = "14")]
    data_location: i32,
}

impl Tensor {
    /// A tensor whose numbers are in `raw_data` (little-endian), here in the file.
    fn plain(name: &str, dims: &[i64], data_type: i32, raw_data: Vec<u8>) -> Tensor {
        Tensor {
            dims: dims.to_vec(),
            data_type,
            name: name.into(),
            raw_data,
            data_location: 0,
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct OpsetId {
    #[prost(string, tag = "1")]
    domain: String,
    #[prost(int64, tag = "2")]
    version: i64,
}

/// One top-level field of a message: its number, its payload when length-delimited, and all
/// of its bytes (key included) to copy it unchanged.
struct Field<'a> {
    tag: u32,
    payload: &'a [u8],
    whole: &'a [u8],
}

fn fields(mut buf: &[u8]) -> Result<Vec<Field<'_>>, GraphError> {
    let bad = |e: prost::DecodeError| GraphError::Malformed(e.to_string());
    let mut out = Vec::new();
    while !buf.is_empty() {
        let start = buf;
        let (tag, wire) = decode_key(&mut buf).map_err(bad)?;
        let payload: &[u8] = match wire {
            WireType::Varint => {
                decode_varint(&mut buf).map_err(bad)?;
                &[]
            }
            WireType::SixtyFourBit => take(&mut buf, 8)?,
            WireType::ThirtyTwoBit => take(&mut buf, 4)?,
            WireType::LengthDelimited => {
                let len = decode_varint(&mut buf).map_err(bad)?;
                let len = usize::try_from(len)
                    .map_err(|_| GraphError::Malformed("field length overflows".into()))?;
                take(&mut buf, len)?
            }
            WireType::StartGroup | WireType::EndGroup => {
                return Err(GraphError::Malformed(format!(
                    "field {tag} is a protobuf group, which ONNX does not use"
                )));
            }
        };
        let whole = &start[..start.len() - buf.len()];
        out.push(Field {
            tag,
            payload,
            whole,
        });
    }
    Ok(out)
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], GraphError> {
    if buf.len() < n {
        return Err(GraphError::Malformed("a field runs past the end".into()));
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

fn put_bytes(tag: u32, bytes: &[u8], out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn put_message(tag: u32, msg: &impl Message, out: &mut Vec<u8>) {
    put_bytes(tag, &msg.encode_to_vec(), out);
}

/// Edits the model's int8 weight patterns (see the module's note); fails when there is
/// nothing to edit, since the caller's model id says the graph was edited.
pub fn rewrite(model: &[u8]) -> Result<(Vec<u8>, Rewritten), GraphError> {
    let top = fields(model)?;
    let graph = top
        .iter()
        .find(|f| f.tag == MODEL_GRAPH)
        .ok_or_else(|| GraphError::Malformed("the model has no graph".into()))?;
    let (graph, done) = rewrite_graph(graph.payload)?;
    if done.matmuls + done.gathers == 0 {
        return Err(GraphError::NothingToRewrite);
    }

    let mut out = Vec::with_capacity(model.len() + model.len() / 8);
    let mut has_ms_opset = false;
    for f in &top {
        match f.tag {
            MODEL_GRAPH => put_bytes(MODEL_GRAPH, &graph, &mut out),
            MODEL_OPSET_IMPORT => {
                let opset = OpsetId::decode(f.payload).map_err(malformed)?;
                has_ms_opset |= opset.domain == MS_DOMAIN;
                out.extend_from_slice(f.whole);
            }
            _ => out.extend_from_slice(f.whole),
        }
    }
    if !has_ms_opset {
        let opset = OpsetId {
            domain: MS_DOMAIN.into(),
            version: 1,
        };
        put_message(MODEL_OPSET_IMPORT, &opset, &mut out);
    }
    Ok((out, done))
}

fn malformed(e: prost::DecodeError) -> GraphError {
    GraphError::Malformed(e.to_string())
}

/// A node of the graph as read, with its bytes for copying it unchanged.
struct Read<'a> {
    node: Node,
    whole: &'a [u8],
}

fn rewrite_graph(graph: &[u8]) -> Result<(Vec<u8>, Rewritten), GraphError> {
    let all = fields(graph)?;
    let mut nodes = Vec::new();
    let mut inits: HashMap<String, (Tensor, &[u8])> = HashMap::new();
    let mut init_order = Vec::new();
    for f in &all {
        match f.tag {
            GRAPH_NODE => nodes.push(Read {
                node: Node::decode(f.payload).map_err(malformed)?,
                whole: f.whole,
            }),
            GRAPH_INITIALIZER => {
                let t = Tensor::decode(f.payload).map_err(malformed)?;
                init_order.push(t.name.clone());
                inits.insert(t.name.clone(), (t, f.whole));
            }
            _ => {}
        }
    }

    let producer: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.node.output.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for r in &nodes {
        for i in &r.node.input {
            *uses.entry(i.as_str()).or_default() += 1;
        }
    }

    // For each node: the `Cast` and `Mul` that make its weight from int8 codes, if they do.
    let int8_weight = |input: &str| -> Option<(usize, usize, &Tensor, &Tensor)> {
        let mul = *producer.get(input)?;
        let m = &nodes[mul].node;
        if m.op_type != "Mul" || !m.domain.is_empty() || m.input.len() != 2 {
            return None;
        }
        if uses.get(input) != Some(&1) {
            return None;
        }
        let cast = *producer.get(m.input[0].as_str())?;
        let c = &nodes[cast].node;
        if c.op_type != "Cast" || !c.domain.is_empty() || uses.get(m.input[0].as_str()) != Some(&1)
        {
            return None;
        }
        let (codes, _) = inits.get(c.input.first()?)?;
        let (scale, _) = inits.get(&m.input[1])?;
        let plain = |t: &Tensor| t.data_location == 0;
        (codes.data_type == INT8
            && scale.data_type == FLOAT
            && plain(codes)
            && plain(scale)
            && codes.dims.len() == 2
            && codes.raw_data.len() == elements(&codes.dims)
            && scale.raw_data.len() == 4 * elements(&scale.dims))
        .then_some((cast, mul, codes, scale))
    };

    let mut replaced: HashMap<usize, Vec<Node>> = HashMap::new();
    let mut dropped: HashSet<usize> = HashSet::new();
    let mut new_inits: Vec<Tensor> = Vec::new();
    let mut done = Rewritten {
        matmuls: 0,
        gathers: 0,
    };
    for (i, r) in nodes.iter().enumerate() {
        let n = &r.node;
        if !n.domain.is_empty() || n.input.len() != 2 || n.output.len() != 1 {
            continue;
        }
        let Some((cast, mul, codes, scale)) = int8_weight(&n.input[1]).or_else(|| {
            // Gather takes its table first.
            (n.op_type == "Gather")
                .then(|| int8_weight(&n.input[0]))
                .flatten()
        }) else {
            continue;
        };
        let base = format!("{}/roost_int8", n.output[0]);
        let edit = match n.op_type.as_str() {
            "MatMul" if n.input[1] == nodes[mul].node.output[0] => {
                matmul_nbits(n, codes, scale, &base, &mut new_inits)
            }
            "Gather" if n.input[0] == nodes[mul].node.output[0] => {
                gather_rows(n, codes, scale, &base)
            }
            _ => None,
        };
        let Some(edit) = edit else { continue };
        if n.op_type == "MatMul" {
            done.matmuls += 1;
        } else {
            done.gathers += 1;
        }
        replaced.insert(i, edit);
        dropped.extend([cast, mul]);
    }

    // Initializers still read by a node after the edit.
    let mut read: HashSet<&str> = HashSet::new();
    for (i, r) in nodes.iter().enumerate() {
        match replaced.get(&i) {
            Some(edit) => {
                for n in edit {
                    read.extend(n.input.iter().map(String::as_str));
                }
            }
            None if !dropped.contains(&i) => read.extend(r.node.input.iter().map(String::as_str)),
            None => {}
        }
    }

    let mut out = Vec::with_capacity(graph.len() + graph.len() / 8);
    for f in all
        .iter()
        .filter(|f| f.tag != GRAPH_NODE && f.tag != GRAPH_INITIALIZER)
    {
        out.extend_from_slice(f.whole);
    }
    for (i, r) in nodes.iter().enumerate() {
        if let Some(edit) = replaced.get(&i) {
            for n in edit {
                put_message(GRAPH_NODE, n, &mut out);
            }
        } else if !dropped.contains(&i) {
            out.extend_from_slice(r.whole);
        }
    }
    for name in &init_order {
        if read.contains(name.as_str()) {
            out.extend_from_slice(inits[name].1);
        }
    }
    for t in &new_inits {
        put_message(GRAPH_INITIALIZER, t, &mut out);
    }
    Ok((out, done))
}

fn elements(dims: &[i64]) -> usize {
    dims.iter()
        .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
        .fold(1usize, usize::saturating_mul)
}

fn floats(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// `MatMul(x, codes × scale)` as `MatMulNBits`, when `scale` is one number per column.
fn matmul_nbits(
    n: &Node,
    codes: &Tensor,
    scale: &Tensor,
    base: &str,
    new_inits: &mut Vec<Tensor>,
) -> Option<Vec<Node>> {
    let (k, cols) = (
        usize::try_from(codes.dims[0]).ok()?,
        usize::try_from(codes.dims[1]).ok()?,
    );
    let per_column =
        elements(&scale.dims) == cols && scale.dims.iter().rev().skip(1).all(|&d| d == 1);
    if k == 0 || k % BLOCK != 0 || !per_column {
        return None;
    }
    let blocks = k / BLOCK;
    let scales = floats(&scale.raw_data);
    // B is stored transposed, [N, blocks, BLOCK], as unsigned codes around zero point 128.
    let mut b = vec![0u8; k * cols];
    for (row, codes) in codes.raw_data.chunks_exact(cols).enumerate() {
        for (col, &c) in codes.iter().enumerate() {
            b[col * k + row] = (c as i8 as i16 + 128) as u8;
        }
    }
    let block_scales: Vec<u8> = scales
        .iter()
        .flat_map(|s| std::iter::repeat_n(*s, blocks))
        .flat_map(f32::to_le_bytes)
        .collect();
    let names = [
        format!("{base}/b"),
        format!("{base}/scales"),
        format!("{base}/zero_points"),
    ];
    let per_block = [(cols * blocks) as i64];
    new_inits.extend([
        Tensor::plain(
            &names[0],
            &[cols as i64, blocks as i64, BLOCK as i64],
            UINT8,
            b,
        ),
        Tensor::plain(&names[1], &per_block, FLOAT, block_scales),
        Tensor::plain(&names[2], &per_block, UINT8, vec![128; cols * blocks]),
    ]);
    let int = |name: &str, i: i64| Attribute {
        name: name.into(),
        i,
        r#type: ATTR_INT,
    };
    Some(vec![Node {
        input: vec![
            n.input[0].clone(),
            names[0].clone(),
            names[1].clone(),
            names[2].clone(),
        ],
        output: n.output.clone(),
        name: format!("{base}/matmul"),
        op_type: "MatMulNBits".into(),
        attribute: vec![
            int("K", k as i64),
            int("N", cols as i64),
            int("bits", 8),
            int("block_size", BLOCK as i64),
            int("accuracy_level", ACCURACY_LEVEL),
        ],
        domain: MS_DOMAIN.into(),
    }])
}

/// `Gather(codes × scale, ids)` as `Gather(codes, ids) × Gather(scale, ids)`, when `scale`
/// is one number per row and the gather is along rows.
fn gather_rows(n: &Node, codes: &Tensor, scale: &Tensor, base: &str) -> Option<Vec<Node>> {
    let axis = match n.attribute.as_slice() {
        [] => 0,
        [a] if a.name == "axis" && a.r#type == ATTR_INT => a.i,
        _ => return None,
    };
    if axis != 0 || scale.dims != [codes.dims[0], 1] {
        return None;
    }
    let ids = n.input[1].clone();
    let [rows, wide, row_scales] = [
        format!("{base}/rows"),
        format!("{base}/rows_f32"),
        format!("{base}/row_scales"),
    ];
    let node = |op: &str, input: Vec<String>, output: &str, attribute: Vec<Attribute>| Node {
        input,
        output: vec![output.to_string()],
        name: format!("{output}/{}", op.to_lowercase()),
        op_type: op.into(),
        attribute,
        domain: String::new(),
    };
    let to_float = Attribute {
        name: "to".into(),
        i: i64::from(FLOAT),
        r#type: ATTR_INT,
    };
    Some(vec![
        node(
            "Gather",
            vec![codes.name.clone(), ids.clone()],
            &rows,
            vec![],
        ),
        node("Cast", vec![rows.clone()], &wide, vec![to_float]),
        node("Gather", vec![scale.name.clone(), ids], &row_scales, vec![]),
        node("Mul", vec![wide, row_scales], &n.output[0], vec![]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, input: &[&str], output: &str) -> Node {
        Node {
            input: input.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: format!("{output}_node"),
            op_type: op.into(),
            attribute: vec![],
            domain: String::new(),
        }
    }

    /// The test weight's code at flat index `i` of its row-major [256, 2] layout.
    fn code(i: usize) -> i8 {
        ((i * 7 % 256) as u8 as i8).wrapping_sub(64)
    }

    /// x[?, 256] · (w int8 [256, 2] × s [1, 2]) and a gather from t int8 [3, 2] × r [3, 1],
    /// plus a field this module does not know (graph name, 2) that must survive.
    fn model() -> Vec<u8> {
        let w: Vec<u8> = (0..512).map(|i| code(i) as u8).collect();
        let s = [0.5f32, 0.25]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let t = vec![1u8, 2, 3, 4, 0xff, 0x80];
        let r = [1.0f32, 2.0, 3.0]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let mut graph = Vec::new();
        put_bytes(2, b"tiny", &mut graph);
        for n in [
            node("Cast", &["w"], "wf"),
            node("Mul", &["wf", "s"], "ws"),
            node("MatMul", &["x", "ws"], "y"),
            node("Cast", &["t"], "tf"),
            node("Mul", &["tf", "r"], "ts"),
            node("Gather", &["ts", "ids"], "e"),
        ] {
            put_message(GRAPH_NODE, &n, &mut graph);
        }
        for t in [
            Tensor::plain("w", &[256, 2], INT8, w),
            Tensor::plain("s", &[1, 2], FLOAT, s),
            Tensor::plain("t", &[3, 2], INT8, t),
            Tensor::plain("r", &[3, 1], FLOAT, r),
        ] {
            put_message(GRAPH_INITIALIZER, &t, &mut graph);
        }
        let mut model = Vec::new();
        encode_key(1, WireType::Varint, &mut model); // ir_version
        encode_varint(10, &mut model);
        let onnx = OpsetId {
            domain: String::new(),
            version: 17,
        };
        put_message(MODEL_OPSET_IMPORT, &onnx, &mut model);
        put_bytes(MODEL_GRAPH, &graph, &mut model);
        model
    }

    fn parts(model: &[u8]) -> (Vec<Node>, Vec<Tensor>, Vec<OpsetId>, Vec<u32>) {
        let top = fields(model).unwrap();
        let opsets = top
            .iter()
            .filter(|f| f.tag == MODEL_OPSET_IMPORT)
            .map(|f| OpsetId::decode(f.payload).unwrap())
            .collect();
        let graph = top.iter().find(|f| f.tag == MODEL_GRAPH).unwrap();
        let g = fields(graph.payload).unwrap();
        let nodes = g
            .iter()
            .filter(|f| f.tag == GRAPH_NODE)
            .map(|f| Node::decode(f.payload).unwrap())
            .collect();
        let inits = g
            .iter()
            .filter(|f| f.tag == GRAPH_INITIALIZER)
            .map(|f| Tensor::decode(f.payload).unwrap())
            .collect();
        (nodes, inits, opsets, g.iter().map(|f| f.tag).collect())
    }

    #[test]
    fn int8_weights_stay_int8_and_unknown_fields_survive() {
        let (out, done) = rewrite(&model()).unwrap();
        assert_eq!(
            done,
            Rewritten {
                matmuls: 1,
                gathers: 1
            }
        );
        let (nodes, inits, opsets, graph_tags) = parts(&out);
        let ops: Vec<&str> = nodes.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["MatMulNBits", "Gather", "Cast", "Gather", "Mul"]);
        assert_eq!(nodes[0].output, ["y"]);
        assert_eq!(nodes[0].input[0], "x");
        assert_eq!(nodes[4].output, ["e"]);
        assert!(graph_tags.contains(&2), "the graph's name was dropped");
        assert!(opsets.iter().any(|o| o.domain == MS_DOMAIN));
        assert!(
            opsets
                .iter()
                .any(|o| o.domain.is_empty() && o.version == 17)
        );

        let names: Vec<&str> = inits.iter().map(|t| t.name.as_str()).collect();
        assert!(!names.contains(&"w") && !names.contains(&"s"), "{names:?}");
        assert!(names.contains(&"t") && names.contains(&"r"), "{names:?}");
        // B is [N, K/128, 128]: column `col` of w, as unsigned codes around 128.
        let b = inits.iter().find(|t| t.name.ends_with("/b")).unwrap();
        assert_eq!(
            (b.dims.as_slice(), b.data_type),
            ([2, 2, 128].as_slice(), UINT8)
        );
        for col in 0..2 {
            for row in 0..256 {
                let stored = i16::from(b.raw_data[col * 256 + row]) - 128;
                assert_eq!(
                    stored,
                    i16::from(code(row * 2 + col)),
                    "row {row} col {col}"
                );
            }
        }
        // One scale per block, column after column; zero points all 128.
        let scales = inits.iter().find(|t| t.name.ends_with("/scales")).unwrap();
        assert_eq!(floats(&scales.raw_data), [0.5, 0.5, 0.25, 0.25]);
        let zero = inits
            .iter()
            .find(|t| t.name.ends_with("/zero_points"))
            .unwrap();
        assert_eq!(
            (zero.raw_data.as_slice(), zero.data_type),
            ([128u8; 4].as_slice(), UINT8)
        );
        let attrs: Vec<(&str, i64)> = nodes[0]
            .attribute
            .iter()
            .map(|a| (a.name.as_str(), a.i))
            .collect();
        assert_eq!(
            attrs,
            [
                ("K", 256),
                ("N", 2),
                ("bits", 8),
                ("block_size", 128),
                ("accuracy_level", 4)
            ]
        );
        assert_eq!(nodes[0].domain, MS_DOMAIN);
    }

    #[test]
    fn a_weight_read_twice_is_left_alone() {
        // A second reader of the scaled weight: folding it away would break that reader.
        let m = model();
        let top = fields(&m).unwrap();
        let graph = top.iter().find(|f| f.tag == MODEL_GRAPH).unwrap();
        let mut g = graph.payload.to_vec();
        put_message(GRAPH_NODE, &node("Identity", &["ws"], "ws_copy"), &mut g);
        let mut rebuilt = Vec::new();
        for f in &top {
            if f.tag == MODEL_GRAPH {
                put_bytes(MODEL_GRAPH, &g, &mut rebuilt);
            } else {
                rebuilt.extend_from_slice(f.whole);
            }
        }
        let (out, done) = rewrite(&rebuilt).unwrap();
        assert_eq!(done.matmuls, 0);
        assert_eq!(done.gathers, 1);
        let (nodes, inits, _, _) = parts(&out);
        assert!(nodes.iter().any(|n| n.op_type == "MatMul"));
        assert!(inits.iter().any(|t| t.name == "w"));
    }

    #[test]
    fn a_graph_without_the_patterns_is_refused() {
        let mut graph = Vec::new();
        put_message(GRAPH_NODE, &node("Relu", &["x"], "y"), &mut graph);
        let mut model = Vec::new();
        put_bytes(MODEL_GRAPH, &graph, &mut model);
        assert!(matches!(rewrite(&model), Err(GraphError::NothingToRewrite)));
    }

    #[test]
    fn truncated_bytes_are_an_error() {
        let m = model();
        assert!(matches!(
            rewrite(&m[..m.len() - 3]),
            Err(GraphError::Malformed(_))
        ));
    }
}
